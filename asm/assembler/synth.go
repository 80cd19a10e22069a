package assembler

import (
	"sort"
	"strconv"
	"strings"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
)

// mapDef is a .map directive: a BTF-defined map as libbpf's __uint and
// __type macros declare it.
type mapDef struct {
	name    string
	sym     *symbol // nil for a template
	fields  []mapField
	line    int
	typeCol int
	// mapType is the map's type (type=).
	mapType ebpf.MapType
	// template: the definition of an inner map only, a BTF struct with
	// no map (and no symbol) of its own.
	template bool
	// inner names the .map (or template) whose struct a map of maps
	// points at in its values member; values are the maps its slots
	// hold at load time ("" for an empty slot).
	inner     string
	innerCol  int
	values    []string
	valuesCol int
	valueCols []int // column of each slot's map name
}

// mapField is one member of the map definition: __uint(name, num) or,
// with typ set, __type(name, typ).
type mapField struct {
	name string
	num  uint32
	typ  string
	col  int
}

var mapKeys = map[string]string{
	"type": "type", "key": "key", "value": "value", "key_size": "key_size", "value_size": "value_size",
	"max_entries": "max_entries", "flags": "map_flags", "map_flags": "map_flags", "pinning": "pinning",
}

// isMapOfMaps: array_of_maps and hash_of_maps take inner= and values=.
func isMapOfMaps(t ebpf.MapType) bool { return t == ebpf.ArrayOfMaps || t == ebpf.HashOfMaps }

// mapDirective reads .map NAME [template] type=T [key=SIZE|TYPE]
// [value=SIZE|TYPE] [max_entries=N] [flags=N] [pinning=by_name|none]
// [inner=MAP [values=MAP,MAP,...]].
func (a *assembler) mapDirective(w []string, col func(int) int) error {
	n := a.lineNo
	if len(w) < 3 {
		return a.errorf(n, col(len(w)), "expected .map NAME type=TYPE [key=..] [value=..] [max_entries=N] [flags=N] [pinning=by_name] [inner=MAP [values=MAP,...]]")
	}
	name, ok := unquote(w[1])
	if !ok || name == "" {
		return a.errorf(n, col(1), "expected a map name")
	}
	def := mapDef{name: name}
	hasType := false
	for i, kv := range w[2:] {
		if kv == "template" {
			def.template = true
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		vcol := col(i+2) + len(k) + 1
		switch k {
		case "inner":
			if !ok || !isIdent(v) {
				return a.errorf(n, vcol, "expected inner=MAP, the name of a .map")
			}
			def.inner, def.innerCol = v, vcol
			continue
		case "values":
			def.values, def.valuesCol = strings.Split(v, ","), vcol
			c := vcol
			for _, m := range def.values {
				if m != "" && !isIdent(m) {
					return a.errorf(n, c, "expected values=MAP,MAP,... (a map name, or nothing for an empty slot), found %q", m)
				}
				def.valueCols = append(def.valueCols, c)
				c += len(m) + 1
			}
			continue
		}
		member, known := mapKeys[k]
		if !ok || !known || v == "" {
			return a.errorf(n, col(i+2), "expected type=, key=, value=, max_entries=, flags=, pinning=, inner= or values=, found %q", kv)
		}
		f := mapField{name: member, col: vcol}
		switch {
		case k == "type":
			mt, ok := objects.MapTypeByName(v)
			if !ok {
				return a.errorf(n, f.col, "unknown map type %q (bpftool's names: hash, array, ringbuf, perf_event_array ...)", v)
			}
			f.num, hasType, def.typeCol, def.mapType = uint32(mt), true, f.col, mt
		case k == "pinning":
			switch v {
			case "by_name":
				f.num = uint32(ebpf.PinByName)
			case "none":
				f.num = uint32(ebpf.PinNone)
			default:
				return a.errorf(n, f.col, "expected pinning=by_name or pinning=none, found %q", v)
			}
		case k == "key" || k == "value":
			if num, err := strconv.ParseUint(v, 0, 32); err == nil {
				f.name, f.num = k+"_size", uint32(num)
			} else {
				f.typ = v
			}
		default:
			num, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				return a.errorf(n, f.col, "expected a number for %s, found %q", k, v)
			}
			f.num = uint32(num)
		}
		def.fields = append(def.fields, f)
	}
	if !hasType {
		return a.errorf(n, col(2), "expected type= for map %s", name)
	}
	switch {
	case isMapOfMaps(def.mapType) && def.inner == "":
		return a.errorf(n, def.typeCol, "expected inner=MAP for a map of maps: the .map (or .map NAME template) its slots hold")
	case !isMapOfMaps(def.mapType) && def.inner != "":
		return a.errorf(n, def.innerCol, "inner= is for array_of_maps and hash_of_maps")
	case def.values != nil && def.inner == "":
		return a.errorf(n, def.valuesCol, "values= needs inner=")
	case def.template && def.inner != "":
		return a.errorf(n, def.innerCol, "a template is an inner map, which cannot hold maps")
	}
	def.line = n
	for _, m := range a.maps {
		if m.name == name {
			return a.errorf(n, col(1), "map %s is already defined (line %d)", name, m.line)
		}
	}
	if def.template {
		if old := a.syms[name]; old != nil {
			return a.errorf(n, col(1), "symbol %s is already defined (line %d)", name, old.line)
		}
		a.maps = append(a.maps, def)
		return nil
	}
	// A template has no place in .maps: the section comes with the
	// first map.
	s := a.byName[".maps"]
	if s == nil {
		s = &section{name: ".maps", labels: map[string]int{}, line: n}
		a.sections = append(a.sections, s)
		a.byName[".maps"] = s
	}
	saved := a.cur
	a.cur = s
	sym, err := a.define(name, col(1), []string{"global"}, []int{0}, 0)
	a.cur = saved
	if err != nil {
		return err
	}
	// The values member is a flexible array: the struct ends before it,
	// the variable holds a pointer per initial slot after it.
	size := uint64(8 * len(def.fields))
	sym.sec, sym.value, sym.size, sym.sized = s, uint64(len(s.data)), size+uint64(8*len(def.values)), true
	s.data = append(s.data, make([]byte, sym.size)...)
	for i, m := range def.values {
		if m != "" {
			s.relocs = append(s.relocs, reloc{off: sym.value + size + uint64(8*i), sym: m, typ: rBPF64Abs64, line: n, col: def.valueCols[i]})
		}
	}
	def.sym = sym
	a.maps = append(a.maps, def)
	return nil
}

// mapNamed returns the .map directive of that name.
func (a *assembler) mapNamed(name string) *mapDef {
	for i := range a.maps {
		if a.maps[i].name == name {
			return &a.maps[i]
		}
	}
	return nil
}

// builtinInts are the integer names .map key= and value= know without a
// .btf block.
var builtinInts = map[string]btf.Type{
	"u8": {Name: "u8", Kind: btf.KindInt, Size: 1, IntBits: 8}, "u16": {Name: "u16", Kind: btf.KindInt, Size: 2, IntBits: 16},
	"u32": {Name: "u32", Kind: btf.KindInt, Size: 4, IntBits: 32}, "u64": {Name: "u64", Kind: btf.KindInt, Size: 8, IntBits: 64},
	"s32": {Name: "s32", Kind: btf.KindInt, Size: 4, IntBits: 32, IntEncoding: btf.IntSigned},
	"s64": {Name: "s64", Kind: btf.KindInt, Size: 8, IntBits: 64, IntEncoding: btf.IntSigned},
	"int": {Name: "int", Kind: btf.KindInt, Size: 4, IntBits: 32, IntEncoding: btf.IntSigned},
}

// synthesize adds to types what the file declares without BTF: the .map
// definitions (and a .maps DATASEC entry for each) and, when the file has
// no .btf block, a FUNC "int NAME(void *ctx)" for each function so that
// func and line info can refer to it.
func (a *assembler) synthesize(types []btf.Type) ([]btf.Type, error) {
	add := func(t btf.Type) btf.TypeID {
		types = append(types, t)
		return btf.TypeID(len(types))
	}
	named := func(name string, kind btf.Kind) btf.TypeID {
		for i := range types {
			if types[i].Name == name && (kind == btf.KindUnknown || types[i].Kind == kind) {
				return btf.TypeID(i + 1)
			}
		}
		return 0
	}
	var intID, sizeID btf.TypeID
	ints := func() {
		if intID == 0 {
			intID = add(btf.Type{Name: "int", Kind: btf.KindInt, Size: 4, IntBits: 32, IntEncoding: btf.IntSigned})
			sizeID = add(btf.Type{Name: "__ARRAY_SIZE_TYPE__", Kind: btf.KindInt, Size: 4, IntBits: 32})
		}
	}
	uintPtr := func(n uint32) btf.TypeID {
		ints()
		arr := add(btf.Type{Kind: btf.KindArray, Type: intID, Index: sizeID, Nelems: n})
		return add(btf.Type{Kind: btf.KindPtr, Type: arr})
	}
	// Inner maps first, so that a map of maps can point at their struct.
	order := make([]*mapDef, 0, len(a.maps))
	for i := range a.maps {
		if a.maps[i].inner == "" {
			order = append(order, &a.maps[i])
		}
	}
	for i := range a.maps {
		if a.maps[i].inner != "" {
			order = append(order, &a.maps[i])
		}
	}
	structID := map[string]btf.TypeID{}
	var vars []btf.SecVar
	for _, m := range order {
		st := btf.Type{Kind: btf.KindStruct, Size: uint32(8 * len(m.fields))}
		for i, f := range m.fields {
			var member btf.TypeID
			if f.typ != "" {
				target := named(f.typ, btf.KindUnknown)
				if target == 0 {
					bi, ok := builtinInts[f.typ]
					if !ok {
						return nil, a.errorf(m.line, f.col, "unknown type %s: a type of the .btf block, or u8, u16, u32, u64, s32, s64, int", f.typ)
					}
					target = add(bi)
				}
				member = add(btf.Type{Kind: btf.KindPtr, Type: target})
			} else {
				member = uintPtr(f.num)
			}
			st.Members = append(st.Members, btf.Member{Name: f.name, Type: member, Offset: uint32(64 * i)})
		}
		if m.inner != "" {
			// __array(values, struct inner): a flexible array of
			// pointers to the inner map's definition.
			in := a.mapNamed(m.inner)
			switch {
			case in == nil:
				return nil, a.errorf(m.line, m.innerCol, "undefined inner map %s: declare it with .map %s [template] type=...", m.inner, m.inner)
			case in.inner != "":
				return nil, a.errorf(m.line, m.innerCol, "inner map %s holds maps itself, which the kernel does not allow", m.inner)
			}
			for j, v := range m.values {
				if v == "" {
					continue
				}
				switch vm := a.mapNamed(v); {
				case vm == nil:
					return nil, a.errorf(m.line, m.valueCols[j], "values: slot %d: undefined map %s", j, v)
				case vm.template:
					return nil, a.errorf(m.line, m.valueCols[j], "values: slot %d: %s is a template, not a map to put in a slot", j, v)
				case vm.inner != "":
					return nil, a.errorf(m.line, m.valueCols[j], "values: slot %d: %s holds maps itself, which the kernel does not allow", j, v)
				}
			}
			ints()
			ptr := add(btf.Type{Kind: btf.KindPtr, Type: structID[m.inner]})
			arr := add(btf.Type{Kind: btf.KindArray, Type: ptr, Index: sizeID})
			st.Members = append(st.Members, btf.Member{Name: "values", Type: arr, Offset: uint32(64 * len(m.fields))})
		}
		st.Vlen = uint16(len(st.Members))
		sid := add(st)
		structID[m.name] = sid
		if m.template {
			continue
		}
		vid := add(btf.Type{Name: m.sym.name, Kind: btf.KindVar, Type: sid, Linkage: 1})
		vars = append(vars, btf.SecVar{Type: vid, Offset: uint32(m.sym.value), Size: uint32(m.sym.size)})
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Offset < vars[j].Offset })
	if len(vars) > 0 {
		size := uint32(len(a.byName[".maps"].data))
		if id := named(".maps", btf.KindDatasec); id != 0 {
			ds := &types[id-1]
			ds.Vars = append(ds.Vars, vars...)
			ds.Vlen, ds.Size = uint16(len(ds.Vars)), size
		} else {
			add(btf.Type{Name: ".maps", Kind: btf.KindDatasec, Size: size, Vars: vars, Vlen: uint16(len(vars))})
		}
	}
	if a.hasBTF {
		return types, nil
	}
	var proto btf.TypeID
	for _, sym := range a.order {
		if !sym.isFunc || named(sym.name, btf.KindFunc) != 0 {
			continue
		}
		if proto == 0 {
			if intID == 0 {
				intID = add(btf.Type{Name: "int", Kind: btf.KindInt, Size: 4, IntBits: 32, IntEncoding: btf.IntSigned})
			}
			voidPtr := add(btf.Type{Kind: btf.KindPtr})
			proto = add(btf.Type{Kind: btf.KindFuncProto, Type: intID, Vlen: 1, Members: []btf.Member{{Name: "ctx", Type: voidPtr}}})
		}
		linkage := uint32(0)
		if sym.bind != 0 {
			linkage = 1
		}
		add(btf.Type{Name: sym.name, Kind: btf.KindFunc, Type: proto, Linkage: linkage})
	}
	return types, nil
}
