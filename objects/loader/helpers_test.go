package loader

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// openObject opens the committed loader test object
// testdata/loader/<name>.bpf.o.
func openObject(t *testing.T, name string) *Object {
	t.Helper()
	obj, err := Open(testutil.Object(t, "loader/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// kernelCounts counts the programs and maps in the kernel whose names are
// in names (kernel names: at most 15 characters), and the links whose
// program is one of those programs. Other tests load objects concurrently,
// so only names this test's objects use are counted.
func kernelCounts(t *testing.T, names ...string) (progs, maps, links int) {
	t.Helper()
	want := map[string]bool{}
	for _, n := range names {
		if len(n) > 15 {
			n = n[:15]
		}
		want[n] = true
	}
	ours := map[ebpf.ProgramID]bool{}
	for id, err := ebpf.ProgramGetNextID(0); err == nil; id, err = ebpf.ProgramGetNextID(id) {
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		if info, err := p.Info(); err == nil && want[info.Name] {
			progs++
			ours[id] = true
		}
		p.Close()
	}
	for id, err := ebpf.MapGetNextID(0); err == nil; id, err = ebpf.MapGetNextID(id) {
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue
		}
		if info, err := m.Info(); err == nil && want[info.Name] {
			maps++
		}
		m.Close()
	}
	it := new(link.Iterator)
	for it.Next() {
		if info, err := it.Link.Info(); err == nil && ours[info.Program] {
			links++
		}
	}
	return progs, maps, links
}

// waitCounts polls kernelCounts until no count exceeds want: the kernel
// frees objects asynchronously, and tests in other packages may load the
// same objects at the same time (so only "no more than" can be asserted by
// name; sessionGone checks exact IDs).
func waitCounts(t *testing.T, want [3]int, names ...string) {
	t.Helper()
	var got [3]int
	for i := 0; i < 100; i++ {
		got[0], got[1], got[2] = kernelCounts(t, names...)
		if got[0] <= want[0] && got[1] <= want[1] && got[2] <= want[2] {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("kernel objects named %v: got progs/maps/links %v, want at most %v", names, got, want)
}

// sessionIDs lists the kernel IDs of what a session loaded and attached.
func sessionIDs(s *Session) map[string][]uint32 {
	ids := map[string][]uint32{}
	for _, p := range s.Loaded.Collection.Programs {
		ids["prog"] = append(ids["prog"], progID(p))
	}
	for _, m := range s.Loaded.Collection.Maps {
		ids["map"] = append(ids["map"], mapID(m))
	}
	for _, a := range s.Attached {
		ids["link"] = append(ids["link"], a.LinkID)
	}
	return ids
}

// assertGone fails unless every ID is freed (waiting for the kernel).
func assertGone(t *testing.T, ids map[string][]uint32) {
	t.Helper()
	for kind, list := range ids {
		for _, id := range list {
			if !idGone(kind, id) {
				t.Errorf("%s %d is still loaded", kind, id)
			}
		}
	}
}

// objectNames lists the kernel names of an object's programs and maps.
func objectNames(obj *Object) []string {
	var names []string
	names = append(names, obj.Programs...)
	for _, m := range obj.Maps {
		if !strings.HasPrefix(m, ".") {
			names = append(names, m)
		}
	}
	return names
}

// idGone waits until no object of the kind has the ID.
func idGone(kind string, id uint32) bool { return testutil.IDGone(kind, id, 5*time.Second) }

// haveTrampolines reports whether the kernel loads fentry programs (some
// kernels refuse them with EPERM).
func haveTrampolines() error {
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.Tracing,
		AttachType:   ebpf.AttachTraceFEntry,
		AttachTo:     "do_sys_openat2",
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		return err
	}
	p.Close()
	return nil
}

// haveKprobes reports whether the kernel has the kprobe PMU.
func haveKprobes() bool {
	_, err := os.Stat("/sys/bus/event_source/devices/kprobe")
	return err == nil
}

func progID(p *ebpf.Program) uint32 { id, _ := objects.Programs.ID(p); return id }
func mapID(m *ebpf.Map) uint32      { id, _ := objects.Maps.ID(m); return id }
