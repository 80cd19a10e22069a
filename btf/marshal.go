package btf

import (
	"encoding/binary"
	"fmt"
)

// StringTable builds a BTF string section: the empty string at offset 0,
// then each distinct string once.
type StringTable struct {
	data []byte
	offs map[string]uint32
}

// NewStringTable returns a table holding only the empty string.
func NewStringTable() *StringTable {
	return &StringTable{data: []byte{0}, offs: map[string]uint32{"": 0}}
}

// Add returns the offset of s, adding it if it is new.
func (st *StringTable) Add(s string) uint32 {
	if off, ok := st.offs[s]; ok {
		return off
	}
	off := uint32(len(st.data))
	st.data = append(st.data, s...)
	st.data = append(st.data, 0)
	st.offs[s] = off
	return off
}

// Marshal encodes types as a little-endian BTF blob whose first type has
// ID 1, the inverse of Parse. Strings already in st (the names other
// sections refer to, such as .BTF.ext's file names) keep their offsets.
func Marshal(types []Type, st *StringTable) ([]byte, error) {
	if st == nil {
		st = NewStringTable()
	}
	le := binary.LittleEndian
	var b []byte
	u32 := func(v uint32) { b = le.AppendUint32(b, v) }
	for i := range types {
		t := &types[i]
		id := i + 1
		if t.Kind == KindUnknown || t.Kind >= kindMax {
			return nil, fmt.Errorf("type [%d]: unknown kind %d", id, t.Kind)
		}
		vlen := len(t.Members) + len(t.Values) + len(t.Vars)
		if t.Kind == KindFunc {
			vlen = int(t.Linkage)
		}
		if vlen > 0xffff {
			return nil, fmt.Errorf("type [%d]: %d members is more than BTF allows", id, vlen)
		}
		info := uint32(t.Kind)<<24 | uint32(vlen)
		if t.KFlag {
			info |= 1 << 31
		}
		u32(st.Add(t.Name))
		u32(info)
		switch t.Kind {
		case KindInt, KindEnum, KindEnum64, KindStruct, KindUnion, KindDatasec, KindFloat:
			u32(t.Size)
		case KindFwd, KindArray:
			u32(0)
		default:
			u32(uint32(t.Type))
		}
		switch t.Kind {
		case KindInt:
			u32(uint32(t.IntEncoding)<<24 | uint32(t.IntOffset)<<16 | uint32(t.IntBits))
		case KindArray:
			u32(uint32(t.Type))
			u32(uint32(t.Index))
			u32(t.Nelems)
		case KindStruct, KindUnion:
			for _, m := range t.Members {
				u32(st.Add(m.Name))
				u32(uint32(m.Type))
				u32(m.Offset)
			}
		case KindFuncProto:
			for _, m := range t.Members {
				u32(st.Add(m.Name))
				u32(uint32(m.Type))
			}
		case KindEnum:
			for _, v := range t.Values {
				u32(st.Add(v.Name))
				u32(uint32(v.Val))
			}
		case KindEnum64:
			for _, v := range t.Values {
				u32(st.Add(v.Name))
				u32(uint32(v.Val))
				u32(uint32(v.Val >> 32))
			}
		case KindVar:
			u32(t.Linkage)
		case KindDatasec:
			for _, v := range t.Vars {
				u32(uint32(v.Type))
				u32(v.Offset)
				u32(v.Size)
			}
		case KindDeclTag:
			u32(uint32(t.ComponentIdx))
		}
	}
	hdr := make([]byte, headerSize)
	le.PutUint16(hdr, btfMagic)
	hdr[2] = 1
	le.PutUint32(hdr[4:], headerSize)
	le.PutUint32(hdr[8:], 0)
	le.PutUint32(hdr[12:], uint32(len(b)))
	le.PutUint32(hdr[16:], uint32(len(b)))
	le.PutUint32(hdr[20:], uint32(len(st.data)))
	out := append(hdr, b...)
	return append(out, st.data...), nil
}

// String returns the string at offset off of the blob's string section.
func (s *Spec) String(off uint32) (string, bool) { return s.str(off) }
