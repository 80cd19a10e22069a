package btf

import "math"

// Layout: the C dumper must reproduce every member offset and struct size
// that BTF records, with nothing but C declarations. It computes where a C
// compiler (the BPF target: 8-byte pointers, naturally aligned scalars up
// to 16 bytes) would place each member, and where that differs from BTF it
// inserts unnamed bitfields (`long: 64;`), which move the next member
// without changing the struct's alignment, or marks the struct
// __attribute__((packed)) when a member sits below its natural alignment.

type layoutInfo struct {
	size   uint64
	align  uint32
	packed int8 // 0 unknown, 1 no, 2 yes
	sized  bool
}

const pointerSize = 8

// maxPadBits is the largest hole filled with bitfield lines.
const maxPadBits = 1 << 20

func roundUp(v, a uint64) uint64 {
	if a <= 1 {
		return v
	}
	return (v + a - 1) / a * a
}

// sizeOf is the size in bytes of type id.
func (d *cDumper) sizeOf(id TypeID) uint64 {
	l := &d.layout[id]
	if l.sized {
		return l.size
	}
	t := d.s.Type(id)
	var size uint64
	switch t.Kind {
	case KindInt, KindEnum, KindEnum64, KindStruct, KindUnion, KindFloat, KindDatasec:
		size = uint64(t.Size)
	case KindPtr:
		size = pointerSize
	case KindArray:
		elem := d.sizeOf(t.Type)
		if elem != 0 && uint64(t.Nelems) > math.MaxUint64/8/elem {
			size = math.MaxUint64 / 8
		} else {
			size = elem * uint64(t.Nelems)
		}
	case KindTypedef, KindConst, KindVolatile, KindRestrict, KindTypeTag, KindVar:
		size = d.sizeOf(t.Type)
	}
	l.size, l.sized = size, true
	return size
}

// alignOf is the alignment in bytes C gives type id.
func (d *cDumper) alignOf(id TypeID) uint32 {
	l := &d.layout[id]
	if l.align != 0 {
		return l.align
	}
	t := d.s.Type(id)
	align := uint32(1)
	switch t.Kind {
	case KindInt, KindFloat, KindEnum, KindEnum64:
		align = max(1, min(t.Size, 16))
		if t.Kind == KindEnum || t.Kind == KindEnum64 {
			align = max(1, min(t.Size, 8))
		}
	case KindPtr:
		align = pointerSize
	case KindArray, KindTypedef, KindConst, KindVolatile, KindRestrict, KindTypeTag:
		align = d.alignOf(t.Type)
	case KindStruct, KindUnion:
		if d.isPacked(id) {
			align = 1
		} else {
			align = d.naturalAlign(t)
		}
	}
	l.align = align
	return align
}

// naturalAlign is the alignment of a struct or union without packing: that
// of its most aligned member.
func (d *cDumper) naturalAlign(t *Type) uint32 {
	a := uint32(1)
	for i := range t.Members {
		a = max(a, d.alignOf(t.Members[i].Type))
	}
	return a
}

// isPacked reports whether struct or union id needs
// __attribute__((packed)): a member below its natural alignment, a
// bitfield straddling its storage unit, or a size that is not a multiple
// of the alignment.
func (d *cDumper) isPacked(id TypeID) bool {
	l := &d.layout[id]
	if l.packed != 0 {
		return l.packed == 2
	}
	t := d.s.Type(id)
	packed := false
	if natural := uint64(d.naturalAlign(t)); uint64(t.Size)%natural != 0 {
		packed = true
	}
	for i := 0; !packed && t.Kind == KindStruct && i < len(t.Members); i++ {
		m := &t.Members[i]
		off := uint64(t.BitOffset(m))
		bits := uint64(t.BitfieldSize(m))
		if bits == 0 {
			bits, off = d.intBitfield(m.Type, off)
		}
		if bits == 0 {
			packed = off%(uint64(d.alignOf(m.Type))*8) != 0
		} else if unit := d.sizeOf(m.Type) * 8; unit > 0 {
			packed = off%unit+bits > unit
		}
	}
	if packed {
		l.packed = 2
	} else {
		l.packed = 1
	}
	return packed
}

// intBitfield handles old-style bitfields, which BTF without kind_flag
// encodes as an INT with fewer bits than its size: it returns the width
// and the member's true bit offset, or 0 and off for other members.
func (d *cDumper) intBitfield(id TypeID, off uint64) (uint64, uint64) {
	t := d.s.Type(id)
	if t.Kind != KindInt || (uint32(t.IntBits) == t.Size*8 && t.IntOffset == 0) {
		return 0, off
	}
	return uint64(t.IntBits), off + uint64(t.IntOffset)
}

var padTypes = [...]struct {
	bits uint64
	name string
}{{8, "char"}, {16, "short"}, {32, "int"}, {64, "long"}}

// appendPadding appends unnamed bitfields that move the layout from bit
// cur to bit end, where place(c) tells where the next member would go on
// its own from bit c. Outside packed structs, `long: 64` first skips to
// the next 64-bit boundary, so whole words of padding come out as
// `long: 64;` lines; the rest is filled bit-exactly with bitfields that fit
// their storage unit.
func (d *cDumper) appendPadding(b []byte, cur, end uint64, level int, packed bool, place func(uint64) uint64) []byte {
	if place(cur) == end {
		return b
	}
	if end-cur > maxPadBits {
		// Only hostile BTF has such holes: fill them with a byte array
		// rather than millions of lines.
		for ; cur%8 != 0; cur++ {
			b = appendPadLine(b, "char", 1, level)
		}
		b = appendIndent(b, level)
		b = append(b, "char __pad_"...)
		b = appendU(b, cur/8)
		b = append(b, '[')
		b = appendU(b, (end-cur)/8)
		b = append(b, "];\n"...)
		cur += (end - cur) / 8 * 8
	}
	if !packed {
		for roundUp(cur, 64)+64 <= end && d.budget >= 0 {
			d.budget--
			b = appendPadLine(b, "long", 64, level)
			cur = roundUp(cur, 64) + 64
			if place(cur) == end {
				return b
			}
		}
	}
	for cur < end && d.budget >= 0 {
		d.budget--
		width := min(end-cur, 64-cur%64)
		name := "long"
		for _, p := range padTypes {
			if cur%p.bits+width <= p.bits {
				name = p.name
				break
			}
		}
		b = appendPadLine(b, name, width, level)
		cur += width
	}
	return b
}

func appendPadLine(b []byte, typ string, width uint64, level int) []byte {
	b = appendIndent(b, level)
	b = append(b, typ...)
	b = append(b, ": "...)
	b = appendU(b, width)
	return append(b, ";\n"...)
}
