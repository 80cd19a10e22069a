package elfobj

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// trampolineObjects need BPF trampolines (fentry/fexit). Some kernels (this
// project's VM among them) refuse trampoline programs with EPERM whatever
// the privileges; there the test logs it instead of failing.
var trampolineObjects = map[string]bool{"fentry.bpf.o": true}

// TestCommittedObjectsLoad loads every committed object into the running
// kernel twice: with bpftool prog loadall (libbpf) and with cilium/ebpf,
// so the other tests can rely on them. Everything is removed afterwards.
func TestCommittedObjectsLoad(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	for _, path := range testutil.Objects(t, "*") {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			pin := filepath.Join(testutil.PinDir(t), "progs")
			defer os.RemoveAll(pin)
			_, code := testutil.Bpftool(t, "prog", "loadall", path, pin)
			os.RemoveAll(pin)

			spec, err := ebpf.LoadCollectionSpec(path)
			if err != nil {
				t.Fatalf("cilium/ebpf cannot read %s: %v", name, err)
			}
			coll, err := ebpf.NewCollection(spec)
			if err == nil {
				coll.Close()
			}
			if trampolineObjects[name] && errors.Is(err, syscall.EPERM) {
				t.Logf("%s: this kernel refuses trampoline programs (EPERM); not a defect of the object", name)
				return
			}
			if code != 0 {
				t.Errorf("bpftool prog loadall %s: exit %d", name, code)
			}
			if err != nil {
				t.Errorf("cilium/ebpf NewCollection(%s): %v", name, err)
			}
		})
	}
}
