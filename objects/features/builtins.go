package features

import (
	"fmt"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/objects"
)

// BuiltinGroups are the groups `feature list_builtins` lists, in bpftool's
// order.
var BuiltinGroups = []string{"prog_types", "map_types", "attach_types", "link_types", "helpers"}

// Builtins returns the names bpfkit knows in group, indexed by value, as
// bpftool's `feature list_builtins` lists libbpf's.
func Builtins(group string) ([]string, error) {
	if group == "helpers" {
		var names []string
		for id := int32(0); bpfasm.HelperName(id) != ""; id++ {
			names = append(names, bpfasm.HelperName(id))
		}
		return names, nil
	}
	if names := objects.TypeNames(group); names != nil {
		return names, nil
	}
	return nil, fmt.Errorf("expected 'prog_types', 'map_types', 'attach_types', 'link_types' or 'helpers', got: %s", group)
}
