package btf

import (
	"debug/dwarf"
	"fmt"

	ebpfbtf "github.com/cilium/ebpf/btf"
)

// FromDWARF converts a DWARF type (an object's debug information, read by
// objects/elfobj) to the BTF type clang would have written for it, so that
// records whose struct is in the object's DWARF but not in its BTF (clang
// leaves out the types of local variables) print with the value formatter
// exactly as BTF-typed ones do. Pointers keep their target; recursive types
// are converted once.
func FromDWARF(t dwarf.Type) (ebpfbtf.Type, error) {
	c := dwarfConv{done: map[dwarf.Type]ebpfbtf.Type{}}
	return c.convert(t, 0)
}

type dwarfConv struct {
	done map[dwarf.Type]ebpfbtf.Type
}

// maxDWARFDepth bounds nesting, as hostile debug information may loop
// through qualifiers.
const maxDWARFDepth = 64

func (c *dwarfConv) convert(t dwarf.Type, depth int) (ebpfbtf.Type, error) {
	if t == nil {
		return &ebpfbtf.Void{}, nil
	}
	if depth > maxDWARFDepth {
		return nil, fmt.Errorf("DWARF type %s: nested more than %d deep", t, maxDWARFDepth)
	}
	if bt, ok := c.done[t]; ok {
		return bt, nil
	}
	size := uint32(max(t.Size(), 0))
	var out ebpfbtf.Type
	switch v := t.(type) {
	case *dwarf.VoidType, *dwarf.UnspecifiedType, *dwarf.FuncType:
		out = &ebpfbtf.Void{}
	case *dwarf.BoolType:
		out = &ebpfbtf.Int{Name: v.Name, Size: size, Encoding: ebpfbtf.Bool}
	case *dwarf.CharType: // as clang writes char to BTF: signed, by name
		out = &ebpfbtf.Int{Name: v.Name, Size: size, Encoding: ebpfbtf.Signed}
	case *dwarf.UcharType: // unsigned char: a plain unsigned integer
		out = &ebpfbtf.Int{Name: v.Name, Size: size, Encoding: ebpfbtf.Unsigned}
	case *dwarf.IntType:
		out = &ebpfbtf.Int{Name: v.Name, Size: size, Encoding: ebpfbtf.Signed}
	case *dwarf.UintType:
		out = &ebpfbtf.Int{Name: v.Name, Size: size, Encoding: ebpfbtf.Unsigned}
	case *dwarf.FloatType:
		out = &ebpfbtf.Float{Name: v.Name, Size: size}
	case *dwarf.EnumType:
		e := &ebpfbtf.Enum{Name: v.EnumName, Size: size, Signed: false}
		for _, val := range v.Val {
			if val.Val < 0 {
				e.Signed = true
			}
			e.Values = append(e.Values, ebpfbtf.EnumValue{Name: val.Name, Value: uint64(val.Val)})
		}
		out = e
	case *dwarf.PtrType:
		p := &ebpfbtf.Pointer{}
		c.done[t] = p
		target, err := c.convert(v.Type, depth+1)
		if err != nil {
			return nil, err
		}
		p.Target = target
		return p, nil
	case *dwarf.TypedefType:
		td := &ebpfbtf.Typedef{Name: v.Name}
		c.done[t] = td
		inner, err := c.convert(v.Type, depth+1)
		if err != nil {
			return nil, err
		}
		td.Type = inner
		return td, nil
	case *dwarf.QualType:
		inner, err := c.convert(v.Type, depth+1)
		if err != nil {
			return nil, err
		}
		switch v.Qual {
		case "const":
			out = &ebpfbtf.Const{Type: inner}
		case "volatile":
			out = &ebpfbtf.Volatile{Type: inner}
		case "restrict":
			out = &ebpfbtf.Restrict{Type: inner}
		default:
			out = inner
		}
	case *dwarf.ArrayType:
		elem, err := c.convert(v.Type, depth+1)
		if err != nil {
			return nil, err
		}
		out = &ebpfbtf.Array{
			Index:  &ebpfbtf.Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4},
			Type:   elem,
			Nelems: uint32(max(v.Count, 0)),
		}
	case *dwarf.StructType:
		return c.record(v, depth)
	default:
		return nil, fmt.Errorf("DWARF type %s: kind %T has no BTF form", t, t)
	}
	c.done[t] = out
	return out, nil
}

// record converts a struct or union, registering it before its members so
// that a member pointing back to it ends the recursion.
func (c *dwarfConv) record(v *dwarf.StructType, depth int) (ebpfbtf.Type, error) {
	var members *[]ebpfbtf.Member
	var out ebpfbtf.Type
	size := uint32(max(v.ByteSize, 0))
	if v.Kind == "union" {
		u := &ebpfbtf.Union{Name: v.StructName, Size: size}
		out, members = u, &u.Members
	} else {
		s := &ebpfbtf.Struct{Name: v.StructName, Size: size}
		out, members = s, &s.Members
	}
	c.done[v] = out
	for _, f := range v.Field {
		mt, err := c.convert(f.Type, depth+1)
		if err != nil {
			return nil, err
		}
		m := ebpfbtf.Member{Name: f.Name, Type: mt, Offset: ebpfbtf.Bits(f.ByteOffset * 8)}
		if f.BitSize > 0 {
			m.BitfieldSize = ebpfbtf.Bits(f.BitSize)
			switch {
			case f.DataBitOffset > 0 || f.BitOffset == 0:
				m.Offset = ebpfbtf.Bits(f.DataBitOffset)
			default: // DWARF 2-4: bits from the top of the storage unit
				m.Offset = ebpfbtf.Bits(f.ByteOffset*8 + f.Type.Size()*8 - f.BitOffset - f.BitSize)
			}
		}
		*members = append(*members, m)
	}
	return out, nil
}
