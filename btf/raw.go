package btf

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/bpfkit/bpfkit/internal/jsonw"
)

// The raw dump is `bpftool btf dump ... format raw`: one line per type,
// `[id] KIND 'name' key=value...`, members, values, parameters and
// section variables on tab-indented lines below. WriteRawJSON prints the
// same as bpftool's JSON ({"types":[...]}), compact or pretty.

// rawName is the name as bpftool prints it: "(anon)" for an absent name.
func rawName(t *Type) string {
	if t.Name == "" {
		return "(anon)"
	}
	return t.Name
}

func memberName(name string) string {
	if name == "" {
		return "(anon)"
	}
	return name
}

func intEncoding(enc uint8) string {
	switch enc {
	case 0:
		return "(none)"
	case IntSigned:
		return "SIGNED"
	case IntChar:
		return "CHAR"
	case IntBool:
		return "BOOL"
	}
	return "UNKN"
}

func funcLinkage(l uint32) string {
	switch l {
	case 0:
		return "static"
	case 1:
		return "global"
	case 2:
		return "extern"
	}
	return "(unknown)"
}

func varLinkage(l uint32) string {
	switch l {
	case 0:
		return "static"
	case 1:
		return "global"
	case 2:
		return "extern"
	}
	return "(unknown)"
}

// rawIDs returns ids, or every type of the blob itself (not of its base)
// when ids is empty.
func rawIDs(s *Spec, ids []TypeID, each func(TypeID, *Type) error) error {
	if len(ids) > 0 {
		for _, id := range ids {
			t := s.Type(id)
			if t == nil {
				return fmt.Errorf("dump BTF: no type with ID %d", id)
			}
			if err := each(id, t); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range s.types {
		if err := each(s.firstID+TypeID(i), &s.types[i]); err != nil {
			return err
		}
	}
	return nil
}

// WriteRaw writes bpftool's plain raw dump of the types ids (all the
// blob's own types when ids is empty).
func WriteRaw(w io.Writer, s *Spec, ids []TypeID) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf []byte
	err := rawIDs(s, ids, func(id TypeID, t *Type) error {
		buf = appendRawType(buf[:0], s, id, t)
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

func appendU(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '\'')
	b = append(b, s...)
	return append(b, '\'')
}

// appendRawType appends one type in bpftool's plain raw format.
func appendRawType(b []byte, s *Spec, id TypeID, t *Type) []byte {
	b = append(b, '[')
	b = appendU(b, uint64(id))
	b = append(b, "] "...)
	b = append(b, t.Kind.String()...)
	b = append(b, ' ')
	b = appendQuoted(b, rawName(t))
	switch t.Kind {
	case KindInt:
		b = append(b, " size="...)
		b = appendU(b, uint64(t.Size))
		b = append(b, " bits_offset="...)
		b = appendU(b, uint64(t.IntOffset))
		b = append(b, " nr_bits="...)
		b = appendU(b, uint64(t.IntBits))
		b = append(b, " encoding="...)
		b = append(b, intEncoding(t.IntEncoding)...)
	case KindPtr, KindConst, KindVolatile, KindRestrict, KindTypedef, KindTypeTag:
		b = append(b, " type_id="...)
		b = appendU(b, uint64(t.Type))
	case KindArray:
		b = append(b, " type_id="...)
		b = appendU(b, uint64(t.Type))
		b = append(b, " index_type_id="...)
		b = appendU(b, uint64(t.Index))
		b = append(b, " nr_elems="...)
		b = appendU(b, uint64(t.Nelems))
	case KindStruct, KindUnion:
		b = append(b, " size="...)
		b = appendU(b, uint64(t.Size))
		b = append(b, " vlen="...)
		b = appendU(b, uint64(t.Vlen))
		for i := range t.Members {
			m := &t.Members[i]
			b = append(b, "\n\t"...)
			b = appendQuoted(b, memberName(m.Name))
			b = append(b, " type_id="...)
			b = appendU(b, uint64(m.Type))
			b = append(b, " bits_offset="...)
			b = appendU(b, uint64(t.BitOffset(m)))
			if bs := t.BitfieldSize(m); bs != 0 {
				b = append(b, " bitfield_size="...)
				b = appendU(b, uint64(bs))
			}
		}
	case KindEnum, KindEnum64:
		b = append(b, " encoding="...)
		if t.KFlag {
			b = append(b, "SIGNED"...)
		} else {
			b = append(b, "UNSIGNED"...)
		}
		b = append(b, " size="...)
		b = appendU(b, uint64(t.Size))
		b = append(b, " vlen="...)
		b = appendU(b, uint64(t.Vlen))
		for i := range t.Values {
			v := &t.Values[i]
			b = append(b, "\n\t"...)
			b = appendQuoted(b, memberName(v.Name))
			b = append(b, " val="...)
			switch {
			case t.Kind == KindEnum && t.KFlag:
				b = strconv.AppendInt(b, int64(int32(v.Val)), 10)
			case t.Kind == KindEnum:
				b = appendU(b, v.Val&0xffffffff)
			case t.KFlag:
				b = strconv.AppendInt(b, int64(v.Val), 10)
				b = append(b, "LL"...)
			default:
				b = appendU(b, v.Val)
				b = append(b, "ULL"...)
			}
		}
	case KindFwd:
		b = append(b, " fwd_kind="...)
		if t.KFlag {
			b = append(b, "union"...)
		} else {
			b = append(b, "struct"...)
		}
	case KindFunc:
		b = append(b, " type_id="...)
		b = appendU(b, uint64(t.Type))
		b = append(b, " linkage="...)
		b = append(b, funcLinkage(t.Linkage)...)
	case KindFuncProto:
		b = append(b, " ret_type_id="...)
		b = appendU(b, uint64(t.Type))
		b = append(b, " vlen="...)
		b = appendU(b, uint64(t.Vlen))
		for i := range t.Members {
			m := &t.Members[i]
			b = append(b, "\n\t"...)
			b = appendQuoted(b, memberName(m.Name))
			b = append(b, " type_id="...)
			b = appendU(b, uint64(m.Type))
		}
	case KindVar:
		b = append(b, " type_id="...)
		b = appendU(b, uint64(t.Type))
		b = append(b, ", linkage="...)
		b = append(b, varLinkage(t.Linkage)...)
	case KindDatasec:
		b = append(b, " size="...)
		b = appendU(b, uint64(t.Size))
		b = append(b, " vlen="...)
		b = appendU(b, uint64(t.Vlen))
		for i := range t.Vars {
			v := &t.Vars[i]
			b = append(b, "\n\ttype_id="...)
			b = appendU(b, uint64(v.Type))
			b = append(b, " offset="...)
			b = appendU(b, uint64(v.Offset))
			b = append(b, " size="...)
			b = appendU(b, uint64(v.Size))
			if vt := s.Type(v.Type); vt != nil {
				b = append(b, " ("...)
				b = append(b, vt.Kind.String()...)
				b = append(b, ' ')
				b = appendQuoted(b, rawName(vt))
				b = append(b, ')')
			}
		}
	case KindFloat:
		b = append(b, " size="...)
		b = appendU(b, uint64(t.Size))
	case KindDeclTag:
		b = append(b, " type_id="...)
		b = appendU(b, uint64(t.Type))
		b = append(b, " component_idx="...)
		b = strconv.AppendInt(b, int64(t.ComponentIdx), 10)
	}
	return append(b, '\n')
}

// WriteRawJSON writes bpftool's JSON raw dump, {"types":[...]}, of the
// types ids (all the blob's own types when ids is empty).
func WriteRawJSON(w io.Writer, s *Spec, ids []TypeID, pretty bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	j := jsonw.New(bw, pretty)
	j.StartObject()
	j.Name("types")
	j.StartArray()
	err := rawIDs(s, ids, func(id TypeID, t *Type) error {
		appendRawJSONType(j, s, id, t)
		return nil
	})
	if err != nil {
		return err
	}
	j.EndArray()
	j.EndObject()
	bw.WriteByte('\n')
	return bw.Flush()
}

func uintField(j *jsonw.Writer, name string, v uint64) {
	j.Name(name)
	j.Uint(v)
}

func intField(j *jsonw.Writer, name string, v int64) {
	j.Name(name)
	j.Int(v)
}

func stringField(j *jsonw.Writer, name, v string) {
	j.Name(name)
	j.String(v)
}

func appendRawJSONType(j *jsonw.Writer, s *Spec, id TypeID, t *Type) {
	j.StartObject()
	uintField(j, "id", uint64(id))
	stringField(j, "kind", t.Kind.String())
	stringField(j, "name", rawName(t))
	switch t.Kind {
	case KindInt:
		uintField(j, "size", uint64(t.Size))
		uintField(j, "bits_offset", uint64(t.IntOffset))
		uintField(j, "nr_bits", uint64(t.IntBits))
		stringField(j, "encoding", intEncoding(t.IntEncoding))
	case KindPtr, KindConst, KindVolatile, KindRestrict, KindTypedef, KindTypeTag:
		uintField(j, "type_id", uint64(t.Type))
	case KindArray:
		uintField(j, "type_id", uint64(t.Type))
		uintField(j, "index_type_id", uint64(t.Index))
		uintField(j, "nr_elems", uint64(t.Nelems))
	case KindStruct, KindUnion:
		uintField(j, "size", uint64(t.Size))
		uintField(j, "vlen", uint64(t.Vlen))
		j.Name("members")
		j.StartArray()
		for i := range t.Members {
			m := &t.Members[i]
			j.StartObject()
			stringField(j, "name", memberName(m.Name))
			uintField(j, "type_id", uint64(m.Type))
			uintField(j, "bits_offset", uint64(t.BitOffset(m)))
			if bs := t.BitfieldSize(m); bs != 0 {
				uintField(j, "bitfield_size", uint64(bs))
			}
			j.EndObject()
		}
		j.EndArray()
	case KindEnum, KindEnum64:
		if t.KFlag {
			stringField(j, "encoding", "SIGNED")
		} else {
			stringField(j, "encoding", "UNSIGNED")
		}
		uintField(j, "size", uint64(t.Size))
		uintField(j, "vlen", uint64(t.Vlen))
		j.Name("values")
		j.StartArray()
		for i := range t.Values {
			v := &t.Values[i]
			j.StartObject()
			stringField(j, "name", memberName(v.Name))
			switch {
			case t.Kind == KindEnum && t.KFlag:
				intField(j, "val", int64(int32(v.Val)))
			case t.Kind == KindEnum:
				uintField(j, "val", v.Val&0xffffffff)
			case t.KFlag:
				intField(j, "val", int64(v.Val))
			default:
				uintField(j, "val", v.Val)
			}
			j.EndObject()
		}
		j.EndArray()
	case KindFwd:
		if t.KFlag {
			stringField(j, "fwd_kind", "union")
		} else {
			stringField(j, "fwd_kind", "struct")
		}
	case KindFunc:
		uintField(j, "type_id", uint64(t.Type))
		stringField(j, "linkage", funcLinkage(t.Linkage))
	case KindFuncProto:
		uintField(j, "ret_type_id", uint64(t.Type))
		uintField(j, "vlen", uint64(t.Vlen))
		j.Name("params")
		j.StartArray()
		for i := range t.Members {
			m := &t.Members[i]
			j.StartObject()
			stringField(j, "name", memberName(m.Name))
			uintField(j, "type_id", uint64(m.Type))
			j.EndObject()
		}
		j.EndArray()
	case KindVar:
		uintField(j, "type_id", uint64(t.Type))
		stringField(j, "linkage", varLinkage(t.Linkage))
	case KindDatasec:
		uintField(j, "size", uint64(t.Size))
		uintField(j, "vlen", uint64(t.Vlen))
		j.Name("vars")
		j.StartArray()
		for i := range t.Vars {
			v := &t.Vars[i]
			j.StartObject()
			uintField(j, "type_id", uint64(v.Type))
			uintField(j, "offset", uint64(v.Offset))
			uintField(j, "size", uint64(v.Size))
			j.EndObject()
		}
		j.EndArray()
	case KindFloat:
		uintField(j, "size", uint64(t.Size))
	case KindDeclTag:
		uintField(j, "type_id", uint64(t.Type))
		intField(j, "component_idx", int64(t.ComponentIdx))
	}
	j.EndObject()
}
