// What the loader's tests share: opening its test objects, the IDs and
// names a load or run made, and the kernel features some sections need.
// What every package's tests share is in internal/testutil.

package loader

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"

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

func progID(p *ebpf.Program) uint32 { id, _ := objects.Programs.ID(p); return id }
func mapID(m *ebpf.Map) uint32      { id, _ := objects.Maps.ID(m); return id }

// startRun starts a run session of obj and closes it when the test ends.
func startRun(t *testing.T, obj *Object, opts RunOptions) *Session {
	t.Helper()
	s, err := StartRun(obj, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
