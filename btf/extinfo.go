package btf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// FuncInfo says that the function of BTF type TypeID starts at InsnOff,
// a byte offset in its ELF section.
type FuncInfo struct {
	InsnOff uint32
	TypeID  TypeID
}

// LineInfo is the source line that starts at InsnOff (bytes).
type LineInfo struct {
	InsnOff    uint32
	File, Text string
	Line, Col  uint32
}

// ExtSection is what .BTF.ext says about one ELF section.
type ExtSection struct {
	Name  string
	Funcs []FuncInfo
	Lines []LineInfo
	Relos []CoreRelo
}

// ParseExt reads the records of a .BTF.ext section, resolving its strings
// in the BTF s, in the order the sections first appear.
func ParseExt(b []byte, s *Spec) ([]*ExtSection, error) {
	if _, err := CountExt(b); err != nil {
		return nil, err
	}
	bo := magicOrder(b)
	hdrLen := bo.Uint32(b[extHdrLenAt:])
	body := b[hdrLen:]
	var out []*ExtSection
	byName := map[string]*ExtSection{}
	str := func(off uint32) (string, error) {
		v, ok := s.String(off)
		if !ok {
			return "", fmt.Errorf("BTF.ext: string offset %d out of range", off)
		}
		return v, nil
	}
	sub := func(at int, minRec uint32, each func(sec *ExtSection, rec []byte) error) error {
		if at+8 > int(hdrLen) {
			return nil
		}
		off, n := bo.Uint32(b[at:]), bo.Uint32(b[at+4:])
		if n == 0 {
			return nil
		}
		d := body[off : off+n]
		recSize := bo.Uint32(d)
		if recSize < minRec {
			return fmt.Errorf("BTF.ext: record size %d is below %d", recSize, minRec)
		}
		for p := uint32(4); p < uint32(len(d)); {
			name, err := str(bo.Uint32(d[p:]))
			if err != nil {
				return err
			}
			cnt := bo.Uint32(d[p+4:])
			p += 8
			sec := byName[name]
			if sec == nil {
				sec = &ExtSection{Name: name}
				byName[name] = sec
				out = append(out, sec)
			}
			for i := uint32(0); i < cnt; i++ {
				if err := each(sec, d[p:p+recSize]); err != nil {
					return err
				}
				p += recSize
			}
		}
		return nil
	}
	err := sub(extFuncInfoAt, 8, func(sec *ExtSection, r []byte) error {
		sec.Funcs = append(sec.Funcs, FuncInfo{bo.Uint32(r), TypeID(bo.Uint32(r[4:]))})
		return nil
	})
	if err == nil {
		err = sub(extLineInfoAt, 16, func(sec *ExtSection, r []byte) error {
			file, err := str(bo.Uint32(r[4:]))
			if err != nil {
				return err
			}
			text, err := str(bo.Uint32(r[8:]))
			if err != nil {
				return err
			}
			lc := bo.Uint32(r[12:])
			sec.Lines = append(sec.Lines, LineInfo{bo.Uint32(r), file, text, lc >> 10, lc & 0x3ff})
			return nil
		})
	}
	if err == nil {
		err = sub(extCoreReloAt, 16, func(sec *ExtSection, r []byte) error {
			acc, err := str(bo.Uint32(r[8:]))
			if err != nil {
				return err
			}
			sec.Relos = append(sec.Relos, CoreRelo{Section: sec.Name, InsnOff: bo.Uint32(r), TypeID: TypeID(bo.Uint32(r[4:])),
				Access: acc, Kind: CoreReloKind(bo.Uint32(r[12:]))})
			return nil
		})
	}
	return out, err
}

// MarshalExt encodes .BTF.ext records, adding their strings to st; call
// it before Marshal writes st out.
func MarshalExt(secs []*ExtSection, st *StringTable) ([]byte, error) {
	le := binary.LittleEndian
	var funcs, lines, relos []byte
	// An empty subsection has length 0: libbpf refuses a record size
	// without records (cilium/ebpf, for its part, wants func and line info
	// records: callers give both).
	sub := func(b []byte, recSize uint32, name string, n int, rec func(i int) []uint32) []byte {
		if n == 0 {
			return b
		}
		if len(b) == 0 {
			b = le.AppendUint32(b, recSize)
		}
		b = le.AppendUint32(b, st.Add(name))
		b = le.AppendUint32(b, uint32(n))
		for i := 0; i < n; i++ {
			for _, v := range rec(i) {
				b = le.AppendUint32(b, v)
			}
		}
		return b
	}
	for _, s := range secs {
		if s.Name == "" {
			return nil, errors.New("BTF.ext: a section without a name")
		}
		funcs = sub(funcs, 8, s.Name, len(s.Funcs), func(i int) []uint32 {
			return []uint32{s.Funcs[i].InsnOff, uint32(s.Funcs[i].TypeID)}
		})
		lines = sub(lines, 16, s.Name, len(s.Lines), func(i int) []uint32 {
			l := s.Lines[i]
			return []uint32{l.InsnOff, st.Add(l.File), st.Add(l.Text), l.Line<<10 | l.Col&0x3ff}
		})
		relos = sub(relos, 16, s.Name, len(s.Relos), func(i int) []uint32 {
			r := s.Relos[i]
			return []uint32{r.InsnOff, uint32(r.TypeID), st.Add(r.Access), uint32(r.Kind)}
		})
	}
	hdr := make([]byte, extHeaderSize)
	le.PutUint16(hdr, btfMagic)
	hdr[2] = 1
	le.PutUint32(hdr[4:], extHeaderSize)
	le.PutUint32(hdr[8:], 0)
	le.PutUint32(hdr[12:], uint32(len(funcs)))
	le.PutUint32(hdr[16:], uint32(len(funcs)))
	le.PutUint32(hdr[20:], uint32(len(lines)))
	le.PutUint32(hdr[24:], uint32(len(funcs)+len(lines)))
	le.PutUint32(hdr[28:], uint32(len(relos)))
	out := append(hdr, funcs...)
	out = append(out, lines...)
	return append(out, relos...), nil
}
