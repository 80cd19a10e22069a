package mapdata

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// LayoutOf describes m for dumping and parsing: sizes, type, possible
// CPUs and, when the map carries BTF, its key and value types (read from
// the kernel's key/value type ids, as bpftool's get_map_kv_btf does;
// struct_ops values come from the kernel's BTF).
func LayoutOf(m *ebpf.Map) (Layout, *objects.MapInfo, error) {
	info, err := objects.DescribeMap(m)
	if err != nil {
		return Layout{}, nil, err
	}
	l := Layout{
		ID:         info.ID,
		Name:       info.Name,
		Type:       ebpf.MapType(info.Type.Value),
		Flags:      info.Flags,
		KeySize:    info.BytesKey,
		ValueSize:  info.BytesValue,
		MaxEntries: info.MaxEntries,
	}
	if IsPerCPU(l.Type) {
		if l.PossibleCPUs, err = ebpf.PossibleCPU(); err != nil {
			return l, info, fmt.Errorf("possible CPUs: %w", err)
		}
	}
	var spec *ebpfbtf.Spec
	switch {
	case info.BTFVmlinuxValueTypeID != 0:
		if spec, err = ebpfbtf.LoadKernelSpec(); err != nil {
			return l, info, fmt.Errorf("load kernel BTF: %w", err)
		}
		if l.ValueType, err = spec.TypeByID(ebpfbtf.TypeID(info.BTFVmlinuxValueTypeID)); err != nil {
			return l, info, fmt.Errorf("map value type: %w", err)
		}
		return l, info, nil
	case info.BTFValueTypeID != 0 && info.BTFID != 0:
		if spec, err = mapBTFSpec(info.BTFID); err != nil {
			return l, info, err
		}
	default:
		return l, info, nil
	}
	if info.BTFKeyTypeID != 0 {
		if l.KeyType, err = spec.TypeByID(ebpfbtf.TypeID(info.BTFKeyTypeID)); err != nil {
			return l, info, fmt.Errorf("map key type: %w", err)
		}
	}
	if l.ValueType, err = spec.TypeByID(ebpfbtf.TypeID(info.BTFValueTypeID)); err != nil {
		return l, info, fmt.Errorf("map value type: %w", err)
	}
	return l, info, nil
}

// mapBTFSpec loads the BTF object id; split BTF (on a module) is loaded
// on top of the kernel's.
func mapBTFSpec(id uint32) (*ebpfbtf.Spec, error) {
	h, err := ebpfbtf.NewHandleFromID(ebpfbtf.ID(id))
	if err != nil {
		return nil, fmt.Errorf("open BTF %d: %w", id, err)
	}
	defer h.Close()
	spec, err := h.Spec(nil)
	if err == nil {
		return spec, nil
	}
	base, kerr := ebpfbtf.LoadKernelSpec()
	if kerr != nil {
		return nil, fmt.Errorf("load BTF %d: %w", id, errors.Join(err, kerr))
	}
	if spec, err = h.Spec(base); err != nil {
		return nil, fmt.Errorf("load BTF %d: %w", id, err)
	}
	return spec, nil
}

// FindBTFType looks up a named struct, union, typedef or other type for
// decoding records: in the map's BTF; then in the BTF of the programs that
// use the map and of every map those programs use (their .bss, .data and
// .rodata maps included), as cilium/ebpf gives each program and map of an
// object its own trimmed BTF; then in the kernel's. The error says where
// it looked.
func FindBTFType(m *ebpf.Map, name string) (ebpfbtf.Type, error) {
	var specs []*ebpfbtf.Spec
	var looked []string
	seen := map[uint32]bool{}
	addBTF := func(id uint32, owner string) {
		if id == 0 || seen[id] {
			return
		}
		seen[id] = true
		if spec, err := mapBTFSpec(id); err == nil {
			specs = append(specs, spec)
			looked = append(looked, fmt.Sprintf("%s (BTF %d)", owner, id))
		}
	}
	info, err := objects.DescribeMap(m)
	if err == nil {
		addBTF(info.BTFID, "map "+info.Name)
		for _, o := range objectOf(info.ID) {
			addBTF(o.btf, o.what)
		}
	}
	if k, err := ebpfbtf.LoadKernelSpec(); err == nil {
		specs = append(specs, k)
		looked = append(looked, "the kernel's")
	}
	for _, spec := range specs {
		types, err := spec.AnyTypesByName(name)
		if err != nil || len(types) == 0 {
			continue
		}
		// Prefer a type with a size (a struct over its forward declaration).
		for _, t := range types {
			if _, err := ebpfbtf.Sizeof(t); err == nil {
				return t, nil
			}
		}
	}
	return nil, fmt.Errorf("no type %q in the BTF of %s", name, strings.Join(looked, ", "))
}

// btfOwner is a program or map with BTF.
type btfOwner struct {
	what string // "program NAME (id N)"
	btf  uint32
}

// objectOf finds the programs that use map id and the maps they use, and
// the programs that use those, once round: what makes up the object the
// map was loaded with.
func objectOf(id uint32) []btfOwner {
	progs, err := objects.Programs.Open(objects.Selector{})
	if err != nil {
		return nil
	}
	type progMaps struct {
		name  string
		id    uint32
		btf   uint32
		maps  []ebpf.MapID
		taken bool
	}
	var all []*progMaps
	for _, p := range progs {
		if pi, err := p.Info(); err == nil {
			pm := &progMaps{name: pi.Name}
			if pid, ok := pi.ID(); ok {
				pm.id = uint32(pid)
			}
			if b, ok := pi.BTFID(); ok {
				pm.btf = uint32(b)
			}
			pm.maps, _ = pi.MapIDs()
			all = append(all, pm)
		}
		p.Close()
	}
	used := map[ebpf.MapID]bool{ebpf.MapID(id): true}
	var out []btfOwner
	for range 2 {
		for _, pm := range all {
			if pm.taken || !slices.ContainsFunc(pm.maps, func(m ebpf.MapID) bool { return used[m] }) {
				continue
			}
			pm.taken = true
			out = append(out, btfOwner{fmt.Sprintf("program %s (id %d)", pm.name, pm.id), pm.btf})
			for _, m := range pm.maps {
				used[m] = true
			}
		}
	}
	for _, mid := range slices.Sorted(maps.Keys(used)) {
		if mid == ebpf.MapID(id) {
			continue
		}
		mm, err := ebpf.NewMapFromID(mid)
		if err != nil {
			continue
		}
		if mi, err := mm.Info(); err == nil {
			if b, ok := mi.BTFID(); ok {
				out = append(out, btfOwner{fmt.Sprintf("map %s (id %d)", mi.Name, mid), uint32(b)})
			}
		}
		mm.Close()
	}
	return out
}

// Layout is what printing a map's elements needs to know about the map.
type Layout struct {
	ID           uint32
	Name         string
	Type         ebpf.MapType
	Flags        uint32
	KeySize      uint32
	ValueSize    uint32
	MaxEntries   uint32
	PossibleCPUs int // possible CPUs, for per-CPU maps
	// KeyType and ValueType are the map's BTF key and value types; a nil
	// ValueType means the map has no BTF and prints as hex. A nil KeyType
	// with a ValueType leaves the key out of the typed output.
	KeyType   ebpfbtf.Type
	ValueType ebpfbtf.Type
}
