package btf

import (
	"fmt"
	"io"
	"strconv"

	"github.com/bpfkit/bpfkit/internal/jsonw"
)

// The raw dump is `bpftool btf dump ... format raw`: one record per type,
// its ID, kind and name and then key=value fields, with its members,
// parameters, enumerators or section variables ("items") below.
// rawType walks a type once and hands each part to a rawPrinter:
// rawPlain prints bpftool's plain text (`[id] KIND 'name' key=value...`,
// items on tab-indented lines), rawJSON bpftool's JSON (an object per type
// with an array of item objects).

// rawPrinter prints one type's parts in the order rawType produces them:
// start, fields, then for a kind with items list and each item (item,
// its fields, endItem), then end.
type rawPrinter interface {
	start(id TypeID, kind Kind, name string)
	field(f rawField)
	// list starts the items; key names them in JSON.
	list(key string)
	// item starts an item; section variables have no name (named false).
	item(name string, named bool)
	// endItem ends it; ref is a section variable's type, which plain text
	// names after its fields.
	endItem(ref *Type)
	end()
}

// rawField is one key=value.
type rawField struct {
	num  uint64 // rawUint, or rawInt as an int64
	str  string // rawWord's word, or what follows a number in plain text only (ENUM64's LL, ULL)
	key  rawKey
	kind rawValueKind
	// comma: plain text separates this field by ", " instead of " ", as
	// bpftool does before VAR's linkage.
	comma bool
}

type rawValueKind uint8

const (
	rawUint rawValueKind = iota
	rawInt
	rawWord // a bare word in plain text, a string in JSON
)

// rawKey is a field's key.
type rawKey uint8

const (
	keySize rawKey = iota
	keyVlen
	keyTypeID
	keyBitsOffset
	keyBitfieldSize
	keyNrBits
	keyEncoding
	keyIndexTypeID
	keyNrElems
	keyVal
	keyFwdKind
	keyLinkage
	keyRetTypeID
	keyOffset
	keyComponentIdx
	numKeys
)

var keyNames = [numKeys]string{
	keySize: "size", keyVlen: "vlen", keyTypeID: "type_id", keyBitsOffset: "bits_offset",
	keyBitfieldSize: "bitfield_size", keyNrBits: "nr_bits", keyEncoding: "encoding",
	keyIndexTypeID: "index_type_id", keyNrElems: "nr_elems", keyVal: "val", keyFwdKind: "fwd_kind",
	keyLinkage: "linkage", keyRetTypeID: "ret_type_id", keyOffset: "offset", keyComponentIdx: "component_idx",
}

func uintField(key rawKey, v uint64) rawField { return rawField{key: key, num: v} }

func intField(key rawKey, v int64) rawField { return rawField{key: key, kind: rawInt, num: uint64(v)} }

func wordField(key rawKey, w string) rawField { return rawField{key: key, kind: rawWord, str: w} }

// rawName is a name as bpftool prints it: "(anon)" for an absent one.
func rawName(name string) string {
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

// linkage names the linkage of a FUNC or VAR (BTF_FUNC_* and BTF_VAR_*
// share their values).
func linkage(l uint32) string {
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

func signedness(kflag bool) string {
	if kflag {
		return "SIGNED"
	}
	return "UNSIGNED"
}

// rawType hands type t with id to p, part by part.
func rawType(p rawPrinter, s *Spec, id TypeID, t *Type) {
	p.start(id, t.Kind, rawName(t.Name))
	switch t.Kind {
	case KindInt:
		p.field(uintField(keySize, uint64(t.Size)))
		p.field(uintField(keyBitsOffset, uint64(t.IntOffset)))
		p.field(uintField(keyNrBits, uint64(t.IntBits)))
		p.field(wordField(keyEncoding, intEncoding(t.IntEncoding)))
	case KindPtr, KindConst, KindVolatile, KindRestrict, KindTypedef, KindTypeTag:
		p.field(uintField(keyTypeID, uint64(t.Type)))
	case KindArray:
		p.field(uintField(keyTypeID, uint64(t.Type)))
		p.field(uintField(keyIndexTypeID, uint64(t.Index)))
		p.field(uintField(keyNrElems, uint64(t.Nelems)))
	case KindStruct, KindUnion:
		p.field(uintField(keySize, uint64(t.Size)))
		p.field(uintField(keyVlen, uint64(t.Vlen)))
		p.list("members")
		for i := range t.Members {
			m := &t.Members[i]
			p.item(rawName(m.Name), true)
			p.field(uintField(keyTypeID, uint64(m.Type)))
			p.field(uintField(keyBitsOffset, uint64(t.BitOffset(m))))
			if bs := t.BitfieldSize(m); bs != 0 {
				p.field(uintField(keyBitfieldSize, uint64(bs)))
			}
			p.endItem(nil)
		}
	case KindEnum, KindEnum64:
		p.field(wordField(keyEncoding, signedness(t.KFlag)))
		p.field(uintField(keySize, uint64(t.Size)))
		p.field(uintField(keyVlen, uint64(t.Vlen)))
		p.list("values")
		for i := range t.Values {
			v := &t.Values[i]
			p.item(rawName(v.Name), true)
			switch {
			case t.Kind == KindEnum && t.KFlag:
				p.field(intField(keyVal, int64(int32(v.Val))))
			case t.Kind == KindEnum:
				p.field(uintField(keyVal, v.Val&0xffffffff))
			case t.KFlag:
				p.field(rawField{key: keyVal, kind: rawInt, num: v.Val, str: "LL"})
			default:
				p.field(rawField{key: keyVal, kind: rawUint, num: v.Val, str: "ULL"})
			}
			p.endItem(nil)
		}
	case KindFwd:
		if t.KFlag {
			p.field(wordField(keyFwdKind, "union"))
		} else {
			p.field(wordField(keyFwdKind, "struct"))
		}
	case KindFunc:
		p.field(uintField(keyTypeID, uint64(t.Type)))
		p.field(wordField(keyLinkage, linkage(t.Linkage)))
	case KindFuncProto:
		p.field(uintField(keyRetTypeID, uint64(t.Type)))
		p.field(uintField(keyVlen, uint64(t.Vlen)))
		p.list("params")
		for i := range t.Members {
			p.item(rawName(t.Members[i].Name), true)
			p.field(uintField(keyTypeID, uint64(t.Members[i].Type)))
			p.endItem(nil)
		}
	case KindVar:
		p.field(uintField(keyTypeID, uint64(t.Type)))
		p.field(rawField{key: keyLinkage, kind: rawWord, str: linkage(t.Linkage), comma: true})
	case KindDatasec:
		p.field(uintField(keySize, uint64(t.Size)))
		p.field(uintField(keyVlen, uint64(t.Vlen)))
		p.list("vars")
		for i := range t.Vars {
			v := &t.Vars[i]
			p.item("", false)
			p.field(uintField(keyTypeID, uint64(v.Type)))
			p.field(uintField(keyOffset, uint64(v.Offset)))
			p.field(uintField(keySize, uint64(v.Size)))
			p.endItem(s.Type(v.Type))
		}
	case KindFloat:
		p.field(uintField(keySize, uint64(t.Size)))
	case KindDeclTag:
		p.field(uintField(keyTypeID, uint64(t.Type)))
		p.field(intField(keyComponentIdx, int64(t.ComponentIdx)))
	}
	p.end()
}

// rawIDs calls each for the types ids, or for every type of the blob
// itself (not of its base) when ids is empty.
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
	const flushAt = 64 << 10
	p := &rawPlain{b: make([]byte, 0, 2*flushAt)}
	err := rawIDs(s, ids, func(id TypeID, t *Type) error {
		rawType(p, s, id, t)
		if len(p.b) < flushAt {
			return nil
		}
		_, err := w.Write(p.b)
		p.b = p.b[:0]
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.Write(p.b)
	return err
}

// WriteRawJSON writes bpftool's JSON raw dump, {"types":[...]}, of the
// types ids (all the blob's own types when ids is empty) to j, which
// decides the layout. The caller flushes j's writer.
func WriteRawJSON(j *jsonw.Writer, s *Spec, ids []TypeID) error {
	j.StartObject()
	j.Name("types")
	j.StartArray()
	p := &rawJSON{j: j}
	err := rawIDs(s, ids, func(id TypeID, t *Type) error {
		rawType(p, s, id, t)
		return nil
	})
	if err != nil {
		return err
	}
	j.EndArray()
	j.EndObject()
	return nil
}

// rawPlain prints bpftool's plain raw dump: a line
// `[id] KIND 'name' key=value...`, then a tab-indented line per item,
// `'name' key=value...`.
type rawPlain struct {
	b []byte
	// bare: the next field starts its line (a section variable's first).
	bare bool
}

// plainKeys are the keys as plain text prints them: " key=".
var plainKeys = func() (p [numKeys]string) {
	for k, name := range keyNames {
		p[k] = " " + name + "="
	}
	return p
}()

func appendU(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '\'')
	b = append(b, s...)
	return append(b, '\'')
}

func (p *rawPlain) start(id TypeID, kind Kind, name string) {
	p.b = append(p.b, '[')
	p.b = appendU(p.b, uint64(id))
	p.b = append(p.b, "] "...)
	p.b = append(p.b, kind.String()...)
	p.b = append(p.b, ' ')
	p.b = appendQuoted(p.b, name)
}

func (p *rawPlain) field(f rawField) {
	key := plainKeys[f.key]
	if f.comma {
		p.b = append(p.b, ',')
	}
	if p.bare {
		key, p.bare = key[1:], false
	}
	p.b = append(p.b, key...)
	switch f.kind {
	case rawUint:
		p.b = appendU(p.b, f.num)
	case rawInt:
		p.b = strconv.AppendInt(p.b, int64(f.num), 10)
	}
	if f.str != "" { // the word, or a number's suffix
		p.b = append(p.b, f.str...)
	}
}

func (p *rawPlain) list(string) {}

func (p *rawPlain) item(name string, named bool) {
	p.b = append(p.b, "\n\t"...)
	if named {
		p.b = appendQuoted(p.b, name)
	}
	p.bare = !named
}

func (p *rawPlain) endItem(ref *Type) {
	if ref != nil {
		p.b = append(p.b, " ("...)
		p.b = append(p.b, ref.Kind.String()...)
		p.b = append(p.b, ' ')
		p.b = appendQuoted(p.b, rawName(ref.Name))
		p.b = append(p.b, ')')
	}
}

func (p *rawPlain) end() { p.b = append(p.b, '\n') }

// rawJSON prints bpftool's JSON raw dump: an object per type, "id",
// "kind", "name", the fields, then the items as an array of objects.
type rawJSON struct {
	j      *jsonw.Writer
	inList bool
}

func (p *rawJSON) start(id TypeID, kind Kind, name string) {
	p.j.StartObject()
	p.j.Name("id")
	p.j.Uint(uint64(id))
	p.j.Name("kind")
	p.j.String(kind.String())
	p.j.Name("name")
	p.j.String(name)
}

func (p *rawJSON) field(f rawField) {
	p.j.Name(keyNames[f.key])
	switch f.kind {
	case rawUint:
		p.j.Uint(f.num)
	case rawInt:
		p.j.Int(int64(f.num))
	case rawWord:
		p.j.String(f.str)
	}
}

func (p *rawJSON) list(key string) {
	p.j.Name(key)
	p.j.StartArray()
	p.inList = true
}

func (p *rawJSON) item(name string, named bool) {
	p.j.StartObject()
	if named {
		p.j.Name("name")
		p.j.String(name)
	}
}

func (p *rawJSON) endItem(*Type) { p.j.EndObject() }

func (p *rawJSON) end() {
	if p.inList {
		p.j.EndArray()
		p.inList = false
	}
	p.j.EndObject()
}
