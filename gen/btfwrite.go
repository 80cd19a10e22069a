package gen

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfkit/bpfkit/btf"
)

// encode writes the kept types as raw BTF, little-endian as the host
// reads it: types in the input's ID order, structs and unions with their
// kept members only, every type ID renumbered (a type not kept becomes
// void), strings in the order they are first used, each once.
func (m *marks) encode() ([]byte, error) {
	ids := map[btf.TypeID]uint32{}
	var kept []btf.TypeID
	for id := m.target.FirstID(); id < m.target.End(); id++ {
		if m.types[id] {
			kept = append(kept, id)
			ids[id] = uint32(len(kept))
		}
	}
	w := &btfWriter{strOff: map[string]uint32{"": 0}, strs: []byte{0}}
	newID := func(id btf.TypeID) uint32 { return ids[id] }
	for _, id := range kept {
		t := m.target.Type(id)
		switch t.Kind {
		case btf.KindStruct, btf.KindUnion:
			var members []btf.Member
			kflag := false
			for i, mem := range t.Members {
				if !m.members[id][i] {
					continue
				}
				off, size := t.BitOffset(&mem), t.BitfieldSize(&mem)
				if size > 0 || off%8 != 0 {
					kflag = true
				}
				members = append(members, btf.Member{Name: mem.Name, Type: mem.Type, Offset: off | size<<24})
			}
			w.header(t.Name, t.Kind, kflag, len(members), t.Size)
			for _, mem := range members {
				w.u32(w.str(mem.Name), newID(mem.Type), mem.Offset)
			}
		case btf.KindInt:
			w.header(t.Name, t.Kind, t.KFlag, 0, t.Size)
			w.u32(uint32(t.IntEncoding)<<24 | uint32(t.IntOffset)<<16 | uint32(t.IntBits))
		case btf.KindFloat:
			w.header(t.Name, t.Kind, t.KFlag, 0, t.Size)
		case btf.KindPtr, btf.KindTypedef, btf.KindVolatile, btf.KindConst, btf.KindRestrict, btf.KindTypeTag, btf.KindFwd:
			w.header(t.Name, t.Kind, t.KFlag, int(t.Vlen), newID(t.Type))
		case btf.KindArray:
			w.header(t.Name, t.Kind, t.KFlag, 0, 0)
			w.u32(newID(t.Type), newID(t.Index), t.Nelems)
		case btf.KindEnum:
			w.header(t.Name, t.Kind, t.KFlag, len(t.Values), t.Size)
			for _, v := range t.Values {
				w.u32(w.str(v.Name), uint32(v.Val))
			}
		case btf.KindEnum64:
			w.header(t.Name, t.Kind, t.KFlag, len(t.Values), t.Size)
			for _, v := range t.Values {
				w.u32(w.str(v.Name), uint32(v.Val), uint32(v.Val>>32))
			}
		case btf.KindFuncProto:
			w.header(t.Name, t.Kind, t.KFlag, len(t.Members), newID(t.Type))
			for _, p := range t.Members {
				w.u32(w.str(p.Name), newID(p.Type))
			}
		default:
			return nil, fmt.Errorf("unsupported kind: %s (%d)", t.Kind, id)
		}
	}
	const hdrLen = 24
	out := make([]byte, hdrLen, hdrLen+len(w.types)+len(w.strs))
	le := binary.LittleEndian
	le.PutUint16(out[0:], 0xeb9f)
	out[2] = 1 // version
	le.PutUint32(out[4:], hdrLen)
	le.PutUint32(out[8:], 0)
	le.PutUint32(out[12:], uint32(len(w.types)))
	le.PutUint32(out[16:], uint32(len(w.types)))
	le.PutUint32(out[20:], uint32(len(w.strs)))
	out = append(out, w.types...)
	return append(out, w.strs...), nil
}

// btfWriter accumulates a type section and its string section.
type btfWriter struct {
	types  []byte
	strs   []byte
	strOff map[string]uint32
}

func (w *btfWriter) u32(vs ...uint32) {
	for _, v := range vs {
		w.types = binary.LittleEndian.AppendUint32(w.types, v)
	}
}

// str returns the offset of s in the string section, adding it the first
// time.
func (w *btfWriter) str(s string) uint32 {
	if off, ok := w.strOff[s]; ok {
		return off
	}
	off := uint32(len(w.strs))
	w.strs = append(append(w.strs, s...), 0)
	w.strOff[s] = off
	return off
}

// header writes struct btf_type: name, info (vlen, kind, kflag), and size
// or type.
func (w *btfWriter) header(name string, kind btf.Kind, kflag bool, vlen int, sizeOrType uint32) {
	info := uint32(vlen)&0xffff | uint32(kind)<<24
	if kflag {
		info |= 1 << 31
	}
	w.u32(w.str(name), info, sizeOrType)
}
