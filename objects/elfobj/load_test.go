package elfobj

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// needs names the kernel capabilities an object needs to load
// (internal/testutil's names): the development VM refuses BPF trampolines
// whatever the privileges; the qemu guest has them.
var needs = map[string]string{"fentry.bpf.o": "trampolines"}

// TestCommittedObjectsLoad loads every committed object into the running
// kernel twice: with bpftool prog loadall (libbpf) and with cilium/ebpf,
// so the other tests can rely on them. Everything is removed afterwards.
func TestCommittedObjectsLoad(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	for _, path := range testutil.Objects(t, "*") {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			if need := needs[name]; need != "" {
				testutil.Requires(t, need)
			}
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
			if code != 0 {
				t.Errorf("bpftool prog loadall %s: exit %d", name, code)
			}
			if err != nil {
				t.Errorf("cilium/ebpf NewCollection(%s): %v", name, err)
			}
		})
	}
}
