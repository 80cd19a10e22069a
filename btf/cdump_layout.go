package btf

import "math"

// Layout: a struct printed in C must have BTF's member offsets and size.
// The dumper follows libbpf's rules: a struct is packed when a member
// sits below its type's alignment or its size is not a multiple of its
// alignment, and holes are filled with unnamed bitfields (`long: 64;`),
// which move the next member without changing the struct's alignment.
// Alignments are libbpf's: a scalar is aligned to its size up to the
// pointer size (so __int128 gets 8), a struct to its most aligned member,
// or 1 when it is packed.

// pointerSize is the size of a pointer in s: that of its `long`, as
// libbpf guesses it, or 8 when it has no long.
func pointerSize(s *Spec) int64 {
	for id := TypeID(1); id < s.End(); id++ {
		t := s.Type(id)
		if t.Kind != KindInt || (t.Size != 4 && t.Size != 8) {
			continue
		}
		switch t.Name {
		case "long", "long int", "int long", "unsigned long", "long unsigned",
			"unsigned long int", "unsigned int long", "long unsigned int",
			"long int unsigned", "int unsigned long", "int long unsigned":
			return int64(t.Size)
		}
	}
	return 8
}

// maxResolveDepth is how many links libbpf follows to find a size.
const maxResolveDepth = 32

// resolveSize is the size in bytes of type id as libbpf computes it, -1
// when it has none (void, a forward declaration, a function, a chain of
// more than 32 typedefs and qualifiers, an array above 4 GiB).
func (d *cDumper) resolveSize(id TypeID) int64 {
	nelems := int64(1)
	for range maxResolveDepth {
		t := d.s.Type(id)
		switch t.Kind {
		case KindInt, KindStruct, KindUnion, KindEnum, KindEnum64, KindDatasec, KindFloat:
			size := int64(t.Size)
			if nelems != 0 && size > math.MaxUint32/nelems {
				return -1
			}
			return nelems * size
		case KindPtr:
			return nelems * d.ptrSize
		case KindTypedef, KindVolatile, KindConst, KindRestrict, KindVar, KindDeclTag, KindTypeTag:
			id = t.Type
		case KindArray:
			if nelems != 0 && int64(t.Nelems) > math.MaxUint32/nelems {
				return -1
			}
			nelems *= int64(t.Nelems)
			id = t.Type
		default: // void, FWD, FUNC, FUNC_PROTO
			return -1
		}
	}
	return -1
}

// alignOf is the alignment in bytes of type id, 0 for kinds that have
// none (void, FWD, FUNC_PROTO, ...) and for structs holding one.
func (d *cDumper) alignOf(id TypeID) int64 {
	if a := d.align[id]; a != 0 {
		return int64(a - 1)
	}
	t := d.s.Type(id)
	var align int64
	switch t.Kind {
	case KindInt, KindEnum, KindEnum64, KindFloat:
		align = min(d.ptrSize, int64(t.Size))
	case KindPtr:
		align = d.ptrSize
	case KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag, KindArray:
		d.align[id] = 1 // a cycle (hostile BTF) ends with 0
		align = d.alignOf(t.Type)
	case KindStruct, KindUnion:
		d.align[id] = 1
		align = d.structAlign(t)
	}
	d.align[id] = int32(align) + 1
	return align
}

// structAlign is a struct's alignment: that of its most aligned member,
// or 1 when a member is misaligned or the size is not a multiple of it.
func (d *cDumper) structAlign(t *Type) int64 {
	maxAlign := int64(1)
	for i := range t.Members {
		m := &t.Members[i]
		a := d.alignOf(m.Type)
		if a <= 0 {
			return 0
		}
		maxAlign = max(maxAlign, a)
		if t.BitfieldSize(m) == 0 && int64(m.Offset)%(8*a) != 0 {
			return 1
		}
	}
	if int64(t.Size)%maxAlign != 0 {
		return 1
	}
	return maxAlign
}

// isPacked reports whether struct t needs __attribute__((packed)): a
// member that is not a bitfield sits below its alignment, or the size is
// not a multiple of the largest alignment.
func (d *cDumper) isPacked(t *Type) bool {
	maxAlign := int64(1)
	for i := range t.Members {
		m := &t.Members[i]
		a := d.alignOf(m.Type)
		if a != 0 && t.BitfieldSize(m) == 0 && int64(m.Offset)%(8*a) != 0 {
			return true
		}
		maxAlign = max(maxAlign, a)
	}
	return int64(t.Size)%maxAlign != 0
}

// roundUp rounds v up to a multiple of a; a 0 alignment (hostile BTF)
// leaves v as it is.
func roundUp(v, a int64) int64 {
	if a <= 0 {
		return v
	}
	return (v + a - 1) / a * a
}

// structDef prints a struct or union definition, without the semicolon,
// at indentation lvl: members at lvl+1 with the padding that puts each
// at its BTF offset, then the tail padding and the packed attribute.
func (d *cDumper) structDef(id TypeID, t *Type, lvl int) {
	isStruct := t.Kind == KindStruct
	align := d.alignOf(id)
	packed := isStruct && d.isPacked(t)
	d.structFwd(id, t)
	d.str(" {")
	var off int64 // bits laid out so far
	prevBitfield := false
	for i := range t.Members {
		if d.err != nil {
			return
		}
		d.line()
		m := &t.Members[i]
		bits := int64(t.BitfieldSize(m))
		mOff := int64(t.BitOffset(m))
		mAlign := int64(1)
		if !packed {
			mAlign = d.alignOf(m.Type)
		}
		d.bitPadding(off, mOff, mAlign, prevBitfield && bits != 0, lvl+1)
		d.str("\n")
		d.pfx(lvl + 1)
		d.typeDecl(m.Type, m.Name, lvl+1)
		if bits != 0 {
			d.str(": ")
			d.out = appendI(d.out, bits)
			off = mOff + bits
			prevBitfield = true
		} else {
			off = mOff + max(0, d.resolveSize(m.Type))*8
			prevBitfield = false
		}
		d.str(";")
	}
	if isStruct {
		d.bitPadding(off, int64(t.Size)*8, align, false, lvl+1)
	}
	if len(t.Members) > 0 || t.Size > 0 {
		d.str("\n")
		d.pfx(lvl)
	}
	d.str("}")
	if packed {
		d.str(" __attribute__((packed))")
	}
}

// bitPadding prints the unnamed bitfields that take the layout from bit
// cur to bit next, where the next member, aligned to nextAlign bytes,
// goes. It first aligns to the widest of long, int, short and char whose
// boundary does not pass next, printing `type: 0;` only where the
// compiler would not get there by itself (or `type: N;` inside a run of
// bitfields), then fills the rest with whole `type: width;` lines and a
// last one of the smallest type that holds the remainder.
func (d *cDumper) bitPadding(cur, next, nextAlign int64, inBitfield bool, lvl int) {
	if cur >= next {
		return
	}
	pads := [...]struct {
		name string
		bits int64
	}{{"long", d.ptrSize * 8}, {"int", 32}, {"short", 16}, {"char", 8}}
	var newOff, padBits int64
	var padType string
	for _, p := range pads {
		padBits, padType = p.bits, p.name
		if newOff = roundUp(cur, padBits); newOff <= next {
			break
		}
	}
	if newOff > cur && newOff <= next {
		if inBitfield ||
			(newOff == next && roundUp(cur, nextAlign*8) != newOff) ||
			(newOff != next && next-newOff <= newOff-cur) {
			width := int64(0)
			if inBitfield {
				width = newOff - cur
			}
			d.padLine(padType, width, lvl)
		}
		cur = newOff
	}
	for cur != next && d.err == nil {
		bits := min(next-cur, padBits)
		if bits == padBits {
			d.padLine(padType, padBits, lvl)
			cur += bits
			continue
		}
		for i := len(pads) - 1; i >= 0; i-- {
			padType, padBits = pads[i].name, pads[i].bits
			if padBits < bits {
				continue
			}
			d.padLine(padType, bits, lvl)
			cur += bits
			break
		}
	}
}

func (d *cDumper) padLine(typ string, width int64, lvl int) {
	d.line()
	d.str("\n")
	d.pfx(lvl)
	d.str(typ)
	d.str(": ")
	d.out = appendI(d.out, width)
	d.str(";")
}

func appendI(b []byte, v int64) []byte {
	if v < 0 {
		return appendU(append(b, '-'), uint64(-v))
	}
	return appendU(b, uint64(v))
}
