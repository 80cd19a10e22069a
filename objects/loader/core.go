package loader

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

var coreReloText = regexp.MustCompile(`^CORERelocation\(([a-z_]+), .*\[([0-9:]+)\], local_id=(\d+)\)$`)

// failedRelocations re-runs the CO-RE relocations of one program against
// the kernel's BTF and describes those the kernel cannot satisfy, as
// "byte_off of struct task_struct.no_such_field".
func failedRelocations(ps *ebpf.ProgramSpec, local, kernel *ebpfbtf.Spec) []string {
	if kernel == nil {
		var err error
		if kernel, err = ebpfbtf.LoadKernelSpec(); err != nil {
			return nil
		}
	}
	bo := ps.ByteOrder
	if bo == nil {
		bo = binary.LittleEndian
	}
	var out []string
	seen := map[string]bool{}
	for i := range ps.Instructions {
		relo := ebpfbtf.CORERelocationMetadata(&ps.Instructions[i])
		if relo == nil {
			continue
		}
		fix, err := ebpfbtf.CORERelocate([]*ebpfbtf.CORERelocation{relo}, []*ebpfbtf.Spec{kernel},
			bo, func(ebpfbtf.Type) (ebpfbtf.TypeID, error) { return 0, nil })
		if err != nil {
			d := describeRelocation(relo, local) + ": " + err.Error()
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
			continue
		}
		if len(fix) == 1 && strings.HasSuffix(fix[0].String(), "=poison") {
			d := describeRelocation(relo, local)
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// describeRelocation names the kind, type and field path of a relocation.
// cilium/ebpf keeps them unexported, so they are read back from its String
// form and the local type (found by its ID in the object's BTF) is walked
// along the accessor.
func describeRelocation(relo *ebpfbtf.CORERelocation, local *ebpfbtf.Spec) string {
	s := relo.String()
	m := coreReloText.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	kind, acc := m[1], strings.Split(m[2], ":")
	id, _ := strconv.Atoi(m[3])
	if local == nil {
		return s
	}
	typ, err := local.TypeByID(ebpfbtf.TypeID(id))
	if err != nil {
		return s
	}
	name := typeLabel(typ)
	if !strings.HasPrefix(kind, "byte_") && !strings.HasPrefix(kind, "field_") &&
		kind != "signed" && !strings.Contains(kind, "shift") {
		if strings.HasPrefix(kind, "enumval") {
			if e, ok := typ.(*ebpfbtf.Enum); ok {
				if i, err := strconv.Atoi(acc[0]); err == nil && i < len(e.Values) {
					return fmt.Sprintf("%s of %s value %s", kind, name, e.Values[i].Name)
				}
			}
		}
		return fmt.Sprintf("%s of %s", kind, name)
	}
	path := name
	cur := typ
	for _, a := range acc[1:] {
		i, err := strconv.Atoi(a)
		if err != nil {
			return s
		}
		cur = ebpfbtf.UnderlyingType(cur)
		switch t := cur.(type) {
		case *ebpfbtf.Struct:
			if i >= len(t.Members) {
				return s
			}
			path += "." + memberName(t.Members[i])
			cur = t.Members[i].Type
		case *ebpfbtf.Union:
			if i >= len(t.Members) {
				return s
			}
			path += "." + memberName(t.Members[i])
			cur = t.Members[i].Type
		case *ebpfbtf.Array:
			path += "[" + a + "]"
			cur = t.Type
		default:
			return s
		}
	}
	return fmt.Sprintf("%s of %s", kind, path)
}

func memberName(m ebpfbtf.Member) string {
	if m.Name == "" {
		return "(anon)"
	}
	return m.Name
}

func typeLabel(t ebpfbtf.Type) string {
	switch t.(type) {
	case *ebpfbtf.Struct:
		return "struct " + t.TypeName()
	case *ebpfbtf.Union:
		return "union " + t.TypeName()
	case *ebpfbtf.Enum:
		return "enum " + t.TypeName()
	}
	if t.TypeName() == "" {
		return "(anon)"
	}
	return t.TypeName()
}
