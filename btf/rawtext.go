package btf

import (
	"fmt"
	"strconv"
	"strings"
)

// RawError is a mistake in raw BTF text: Line is the index (0-based) of
// the line in the slice given to ParseRaw, Col the 1-based column.
type RawError struct {
	Line, Col int
	Msg       string
}

func (e *RawError) Error() string { return e.Msg }

// ParseRaw reads types written in bpftool's raw dump format, as WriteRaw
// prints them: "[1] INT 'int' size=4 bits_offset=0 nr_bits=32
// encoding=SIGNED", with members, values, parameters and section
// variables on the tab-indented lines that follow. IDs must count up from
// 1. It is the inverse of WriteRaw for the types clang emits.
func ParseRaw(lines []string) ([]Type, error) {
	var types []Type
	var cur *Type
	for i, line := range lines {
		fail := func(col int, format string, args ...any) error {
			return &RawError{i, col, fmt.Sprintf(format, args...)}
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "\t") || strings.HasPrefix(line, " ") {
			if cur == nil {
				return nil, fail(1, "expected a type, [ID] KIND 'name' ..., before its items")
			}
			if err := rawItem(cur, line, fail); err != nil {
				return nil, err
			}
			continue
		}
		if cur != nil {
			if err := finishRaw(cur); err != nil {
				return nil, &RawError{i, 1, err.Error()}
			}
		}
		types = append(types, Type{})
		cur = &types[len(types)-1]
		if err := rawHead(cur, line, len(types), fail); err != nil {
			return nil, err
		}
	}
	if cur != nil {
		if err := finishRaw(cur); err != nil {
			return nil, &RawError{len(lines) - 1, 1, err.Error()}
		}
	}
	return types, nil
}

type failFunc func(col int, format string, args ...any) error

// rawQuoted reads 'name' at s[at:], returning the name ("" for (anon))
// and the index after it.
func rawQuoted(s string, at int, fail failFunc) (string, int, error) {
	if at >= len(s) || s[at] != '\'' {
		return "", 0, fail(at+1, "expected a quoted name 'NAME'")
	}
	end := strings.IndexByte(s[at+1:], '\'')
	if end < 0 {
		return "", 0, fail(at+1, "unterminated name")
	}
	name := s[at+1 : at+1+end]
	if name == "(anon)" {
		name = ""
	}
	return name, at + end + 2, nil
}

type rawKV struct {
	key, val string
	col      int
}

// rawFields splits "k=v k2=v2, k3=v3 (VAR 'x')" into its key=value pairs.
func rawFields(s string, at int, fail failFunc) ([]rawKV, error) {
	var out []rawKV
	for at < len(s) {
		for at < len(s) && (s[at] == ' ' || s[at] == ',' || s[at] == '\t') {
			at++
		}
		if at >= len(s) || s[at] == '(' {
			break // bpftool's note on a section variable's type
		}
		end := at
		for end < len(s) && s[end] != ' ' && s[end] != ',' {
			end++
		}
		word := s[at:end]
		eq := strings.IndexByte(word, '=')
		if eq <= 0 {
			return nil, fail(at+1, "expected key=value, found %q", word)
		}
		out = append(out, rawKV{word[:eq], word[eq+1:], at + eq + 2})
		at = end
	}
	return out, nil
}

func rawNum(kv rawKV, bits int, fail failFunc) (uint64, error) {
	v, err := strconv.ParseUint(kv.val, 10, bits)
	if err != nil {
		return 0, fail(kv.col, "expected a number of %d bits for %s, found %q", bits, kv.key, kv.val)
	}
	return v, nil
}

func rawSigned(kv rawKV, bits int, fail failFunc) (int64, error) {
	v, err := strconv.ParseInt(kv.val, 10, bits)
	if err != nil {
		return 0, fail(kv.col, "expected a number of %d bits for %s, found %q", bits, kv.key, kv.val)
	}
	return v, nil
}

var kindByName = func() map[string]Kind {
	m := map[string]Kind{}
	for k := KindInt; k < kindMax; k++ {
		m[k.String()] = k
	}
	return m
}()

var linkageByName = map[string]uint32{"static": 0, "global": 1, "extern": 2}

func rawHead(t *Type, line string, want int, fail failFunc) error {
	if !strings.HasPrefix(line, "[") {
		return fail(1, "expected [ID] at the start of a type")
	}
	close := strings.IndexByte(line, ']')
	if close < 0 {
		return fail(1, "expected [ID]")
	}
	id, err := strconv.Atoi(line[1:close])
	if err != nil || id != want {
		return fail(2, "expected type ID %d (IDs count up from 1), found %q", want, line[1:close])
	}
	at := close + 1
	for at < len(line) && line[at] == ' ' {
		at++
	}
	kEnd := strings.IndexByte(line[at:], ' ')
	if kEnd < 0 {
		return fail(at+1, "expected a kind and a name")
	}
	kind, ok := kindByName[line[at:at+kEnd]]
	if !ok {
		return fail(at+1, "unknown BTF kind %q", line[at:at+kEnd])
	}
	t.Kind = kind
	at += kEnd + 1
	if t.Name, at, err = rawQuoted(line, at, fail); err != nil {
		return err
	}
	kvs, err := rawFields(line, at, fail)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		var v uint64
		switch kv.key {
		case "size", "vlen", "type_id", "bits_offset", "nr_bits", "index_type_id", "nr_elems", "ret_type_id":
			if v, err = rawNum(kv, 32, fail); err != nil {
				return err
			}
		}
		switch kv.key {
		case "size":
			t.Size = uint32(v)
		case "vlen":
			t.Vlen = uint16(v)
		case "type_id", "ret_type_id":
			t.Type = TypeID(v)
		case "bits_offset":
			t.IntOffset = uint8(v)
		case "nr_bits":
			t.IntBits = uint8(v)
		case "index_type_id":
			t.Index = TypeID(v)
		case "nr_elems":
			t.Nelems = uint32(v)
		case "encoding":
			switch kv.val {
			case "(none)":
			case "SIGNED":
				t.IntEncoding, t.KFlag = IntSigned, t.Kind != KindInt
			case "CHAR":
				t.IntEncoding = IntChar
			case "BOOL":
				t.IntEncoding = IntBool
			case "UNSIGNED":
			default:
				return fail(kv.col, "unknown encoding %q", kv.val)
			}
			if t.Kind != KindInt {
				t.IntEncoding = 0
			}
		case "linkage":
			l, ok := linkageByName[kv.val]
			if !ok {
				return fail(kv.col, "expected linkage static, global or extern, found %q", kv.val)
			}
			t.Linkage = l
		case "fwd_kind":
			t.KFlag = kv.val == "union"
		case "component_idx":
			c, err := rawSigned(kv, 32, fail)
			if err != nil {
				return err
			}
			t.ComponentIdx = int32(c)
		default:
			return fail(kv.col-len(kv.key)-1, "unknown field %q for %s", kv.key, t.Kind)
		}
	}
	return nil
}

func rawItem(t *Type, line string, fail failFunc) error {
	at := 0
	for at < len(line) && (line[at] == '\t' || line[at] == ' ') {
		at++
	}
	var name string
	var err error
	if t.Kind != KindDatasec {
		if name, at, err = rawQuoted(line, at, fail); err != nil {
			return err
		}
	}
	kvs, err := rawFields(line, at, fail)
	if err != nil {
		return err
	}
	get := map[string]rawKV{}
	for _, kv := range kvs {
		get[kv.key] = kv
	}
	num := func(key string, bits int) (uint64, error) {
		kv, ok := get[key]
		if !ok {
			return 0, fail(len(line)+1, "expected %s=", key)
		}
		return rawNum(kv, bits, fail)
	}
	switch t.Kind {
	case KindStruct, KindUnion:
		typ, err := num("type_id", 32)
		if err != nil {
			return err
		}
		off, err := num("bits_offset", 32)
		if err != nil {
			return err
		}
		m := Member{Name: name, Type: TypeID(typ), Offset: uint32(off)}
		if _, ok := get["bitfield_size"]; ok {
			bs, err := num("bitfield_size", 8)
			if err != nil {
				return err
			}
			if off >= 1<<24 {
				return fail(get["bits_offset"].col, "bit offset too large for a bitfield")
			}
			m.Offset |= uint32(bs) << 24
			t.KFlag = true
		}
		t.Members = append(t.Members, m)
	case KindFuncProto:
		typ, err := num("type_id", 32)
		if err != nil {
			return err
		}
		t.Members = append(t.Members, Member{Name: name, Type: TypeID(typ)})
	case KindEnum, KindEnum64:
		kv, ok := get["val"]
		if !ok {
			return fail(len(line)+1, "expected val=")
		}
		s := strings.TrimSuffix(strings.TrimSuffix(kv.val, "ULL"), "LL")
		var v uint64
		if strings.HasPrefix(s, "-") {
			iv, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fail(kv.col, "expected a number, found %q", kv.val)
			}
			v = uint64(iv)
		} else if v, err = strconv.ParseUint(s, 10, 64); err != nil {
			return fail(kv.col, "expected a number, found %q", kv.val)
		}
		t.Values = append(t.Values, EnumValue{Name: name, Val: v})
	case KindDatasec:
		typ, err := num("type_id", 32)
		if err != nil {
			return err
		}
		off, err := num("offset", 32)
		if err != nil {
			return err
		}
		size, err := num("size", 32)
		if err != nil {
			return err
		}
		t.Vars = append(t.Vars, SecVar{Type: TypeID(typ), Offset: uint32(off), Size: uint32(size)})
	default:
		return fail(1, "%s has no items", t.Kind)
	}
	return nil
}

// finishRaw checks a type's item count against its vlen.
func finishRaw(t *Type) error {
	n := len(t.Members) + len(t.Values) + len(t.Vars)
	switch t.Kind {
	case KindStruct, KindUnion, KindFuncProto, KindEnum, KindEnum64, KindDatasec:
		if n != int(t.Vlen) {
			return fmt.Errorf("%s '%s' has vlen=%d but %d items", t.Kind, t.Name, t.Vlen, n)
		}
		if t.KFlag && (t.Kind == KindStruct || t.Kind == KindUnion) {
			return nil
		}
	}
	return nil
}
