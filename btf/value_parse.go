package btf

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	ebpfbtf "github.com/cilium/ebpf/btf"
)

// ParseValue encodes text as a value of BTF type t, the inverse of
// WriteValue; `map update` and `run --set` both take their values here.
// Scalars take one word: integers in decimal, 0x hex, 0o or 0 octal or 0b
// binary (range-checked), enums by name or number, bools as strconv's
// words (true, false, 1, 0, t, F, TRUE, ...), chars as a single character
// or a number, floats as strconv reads them, pointers as numbers. An
// array of bytes (chars, __u8, ...) takes a plain string, NUL-padded, of
// at most as many bytes as the array has. Structs, unions, arrays and data
// sections take the JSON that a dump prints for them ({"a":1,"b":"x"};
// in JSON, too, a byte array takes a string). Members left out are zero.
//
// An error about the word itself (a scalar's, or a string too long for
// its array) is a *WordError.
func ParseValue(t ebpfbtf.Type, text string) ([]byte, error) {
	size, err := ebpfbtf.Sizeof(t)
	if err != nil {
		return nil, fmt.Errorf("size of %s: %w", typeName(t), err)
	}
	buf := make([]byte, size)
	var v any = text
	word := true // v is text itself, not JSON
	if isComposite(t) {
		var j any
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		err := dec.Decode(&j)
		// Anything but JSON white space after the value is trailing
		// data (dec.More misses a stray "]" or "}").
		trailing := err == nil && strings.Trim(text[dec.InputOffset():], " \t\r\n") != ""
		switch {
		case isByteArray(t) && (err != nil || trailing || !isStringOrArray(j)):
			// A plain string: text is JSON for a byte array only
			// when it is one JSON string or array.
		case err != nil:
			return nil, fmt.Errorf("expected JSON for %s: %v", typeName(t), err)
		case trailing:
			return nil, fmt.Errorf("trailing data after JSON for %s", typeName(t))
		default:
			v, word = j, false
		}
	}
	if err := encode(t, v, buf, 0); err != nil {
		if word {
			return nil, &WordError{Word: text, Problem: wordProblem(t), Err: err}
		}
		return nil, err
	}
	return buf, nil
}

// WordError is ParseValue's error for a word that is not a value of its
// type. Error says why in terms of the type, as `map update` reports it
// ("4294967296 out of range for unsigned int"); Word and Problem say it
// from the word's side, as `run --set` reports it ("4294967296" is not a
// 32-bit unsigned integer).
type WordError struct {
	Word    string // the text as given
	Problem string // what is wrong with it: "is not a 32-bit unsigned integer"
	Err     error
}

func (e *WordError) Error() string { return e.Err.Error() }

func (e *WordError) Unwrap() error { return e.Err }

// wordProblem says what a word that does not encode as t is not.
func wordProblem(t ebpfbtf.Type) string {
	switch t := skipQuals(t).(type) {
	case *ebpfbtf.Int:
		switch {
		case t.Encoding&ebpfbtf.Bool != 0:
			return "is not a bool"
		case t.Encoding&ebpfbtf.Signed != 0:
			return fmt.Sprintf("is not a %d-bit signed integer (%s)", t.Size*8, intRange(int(t.Size), true))
		}
		return fmt.Sprintf("is not a %d-bit unsigned integer (%s)", t.Size*8, intRange(int(t.Size), false))
	case *ebpfbtf.Enum:
		return "is neither a value of " + typeName(t) + " nor a number"
	case *ebpfbtf.Pointer:
		return "is not an address"
	case *ebpfbtf.Float:
		return "is not a float"
	case *ebpfbtf.Array:
		// A word fails for a byte array only by its length.
		return fmt.Sprintf("is longer than %d bytes", t.Nelems)
	}
	return "is not a value of " + typeName(t)
}

func isStringOrArray(v any) bool {
	switch v.(type) {
	case string, []any:
		return true
	}
	return false
}

// isByteArray reports whether t is an array of 1-byte integers, which
// takes a string.
func isByteArray(t ebpfbtf.Type) bool {
	a, ok := skipQuals(t).(*ebpfbtf.Array)
	if !ok {
		return false
	}
	it, ok := skipQuals(a.Type).(*ebpfbtf.Int)
	return ok && it.Size == 1
}

// skipQuals skips qualifiers, typedefs and variables, down to the type
// that says how a value is spelled.
func skipQuals(t ebpfbtf.Type) ebpfbtf.Type {
	for range 64 {
		switch q := skipCV(t).(type) {
		case *ebpfbtf.Typedef:
			t = q.Type
		case *ebpfbtf.Var:
			t = q.Type
		default:
			return q
		}
	}
	return t
}

func isComposite(t ebpfbtf.Type) bool {
	switch skipQuals(t).(type) {
	case *ebpfbtf.Struct, *ebpfbtf.Union, *ebpfbtf.Array, *ebpfbtf.Datasec:
		return true
	}
	return false
}

func typeName(t ebpfbtf.Type) string {
	if t == nil {
		return "void"
	}
	if n := t.TypeName(); n != "" {
		switch t.(type) {
		case *ebpfbtf.Struct:
			return "struct " + n
		case *ebpfbtf.Union:
			return "union " + n
		case *ebpfbtf.Enum:
			return "enum " + n
		}
		return n
	}
	switch t := t.(type) {
	case *ebpfbtf.Struct:
		return "anonymous struct"
	case *ebpfbtf.Union:
		return "anonymous union"
	case *ebpfbtf.Array:
		return fmt.Sprintf("%s[%d]", typeName(t.Type), t.Nelems)
	case *ebpfbtf.Pointer:
		return typeName(t.Target) + " *"
	case *ebpfbtf.Const:
		return "const " + typeName(t.Type)
	case *ebpfbtf.Volatile:
		return "volatile " + typeName(t.Type)
	case *ebpfbtf.Enum:
		return "anonymous enum"
	}
	return fmt.Sprintf("%T", t)
}

// TypeName is a short C-like name for t, for error messages.
func TypeName(t ebpfbtf.Type) string { return typeName(t) }

// number turns a JSON or word value into a big integer.
func number(v any) (*big.Int, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case bool:
		if x {
			return big.NewInt(1), nil
		}
		return big.NewInt(0), nil
	default:
		return nil, fmt.Errorf("expected a number, got %s", describe(v))
	}
	n, ok := new(big.Int).SetString(s, 0)
	if ok {
		// Base 0: 0x, 0o, 0b and a leading 0 (octal, as strtoul)
		// prefixes, and _ between digits.
		return n, nil
	}
	// A decimal with an exponent or a fraction, as people write big
	// numbers (1e9, 2.5e6), when it is a whole number.
	if r, ok := new(big.Rat).SetString(s); ok && len(s) <= 64 && !strings.ContainsAny(s, "/xXpP") {
		if !r.IsInt() {
			return nil, fmt.Errorf("not a whole number: %q", s)
		}
		return r.Num(), nil
	}
	return nil, fmt.Errorf("not a number: %q", s)
}

// intRange is the range of a size-byte integer: "0 to 255", "-128 to
// 127".
func intRange(size int, signed bool) string {
	bits := uint(size * 8)
	if signed {
		lo := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
		hi := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits-1), big.NewInt(1))
		return lo.String() + " to " + hi.String()
	}
	return "0 to " + new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits), big.NewInt(1)).String()
}

func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	case bool:
		return "a bool"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%v", v)
}

func putInt(buf []byte, off, size int, n *big.Int, signed bool, what string) error {
	bits := uint(size * 8)
	lo := new(big.Int)
	hi := new(big.Int).Lsh(big.NewInt(1), bits)
	if signed {
		lo.Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
		hi.Lsh(big.NewInt(1), bits-1)
	}
	if n.Cmp(lo) < 0 || n.Cmp(hi) >= 0 {
		return fmt.Errorf("%s out of range for %s (%s)", n, what, intRange(size, signed))
	}
	u := new(big.Int).Set(n)
	if u.Sign() < 0 {
		u.Add(u, new(big.Int).Lsh(big.NewInt(1), bits))
	}
	b := u.Bytes() // big endian
	if off+size > len(buf) {
		return fmt.Errorf("value does not fit")
	}
	for i := 0; i < len(b) && i < size; i++ {
		buf[off+i] = b[len(b)-1-i]
	}
	return nil
}

func encode(t ebpfbtf.Type, v any, buf []byte, off int) error {
	switch t := skipQuals(t).(type) {
	case *ebpfbtf.Int:
		size := int(t.Size)
		if t.Encoding&ebpfbtf.Bool != 0 {
			var b bool
			switch x := v.(type) {
			case bool:
				b = x
			case string:
				var err error
				if b, err = strconv.ParseBool(x); err != nil {
					return fmt.Errorf("expected true or false for %s, got %q", typeName(t), x)
				}
			case json.Number:
				b = x != "0"
			default:
				return fmt.Errorf("expected a bool for %s, got %s", typeName(t), describe(v))
			}
			if b {
				buf[off] = 1
			}
			return nil
		}
		if s, ok := v.(string); ok && isCharInt(t) {
			if len(s) == 1 && (s[0] < '0' || s[0] > '9') {
				buf[off] = s[0]
				return nil
			}
			if strings.HasPrefix(s, `\u00`) && len(s) == 6 {
				c, err := strconv.ParseUint(s[4:], 16, 8)
				if err == nil {
					buf[off] = byte(c)
					return nil
				}
			}
		}
		n, err := number(v)
		if err != nil {
			return fmt.Errorf("%s: %w", typeName(t), err)
		}
		return putInt(buf, off, size, n, t.Encoding&ebpfbtf.Signed != 0 || t.Encoding&ebpfbtf.Char != 0 && n.Sign() < 0, typeName(t))
	case *ebpfbtf.Enum:
		if s, ok := v.(string); ok {
			for _, ev := range t.Values {
				if ev.Name == s {
					if t.Signed || t.Size < 8 {
						return putInt(buf, off, int(t.Size), truncSigned(ev.Value, int(t.Size)), true, typeName(t))
					}
					return putInt(buf, off, int(t.Size), new(big.Int).SetUint64(ev.Value), false, typeName(t))
				}
			}
		}
		n, err := number(v)
		if err != nil {
			return fmt.Errorf("%s: not a value name or number: %v", typeName(t), describe(v))
		}
		if n.Sign() < 0 {
			return putInt(buf, off, int(t.Size), n, true, typeName(t))
		}
		return putInt(buf, off, int(t.Size), n, false, typeName(t))
	case *ebpfbtf.Pointer:
		n, err := number(v)
		if err != nil {
			return fmt.Errorf("%s: %w", typeName(t), err)
		}
		return putInt(buf, off, 8, n, false, typeName(t))
	case *ebpfbtf.Float:
		var f float64
		switch x := v.(type) {
		case json.Number:
			var err error
			if f, err = x.Float64(); err != nil {
				return fmt.Errorf("%s: %w", typeName(t), err)
			}
		case string:
			var err error
			if f, err = strconv.ParseFloat(x, 64); err != nil {
				return fmt.Errorf("%s: not a number: %q", typeName(t), x)
			}
		default:
			return fmt.Errorf("expected a number for %s, got %s", typeName(t), describe(v))
		}
		switch t.Size {
		case 4:
			binary.LittleEndian.PutUint32(buf[off:], math.Float32bits(float32(f)))
		case 8:
			binary.LittleEndian.PutUint64(buf[off:], math.Float64bits(f))
		default:
			return fmt.Errorf("unsupported float size %d", t.Size)
		}
		return nil
	case *ebpfbtf.Array:
		esize, err := ebpfbtf.Sizeof(t.Type)
		if err != nil {
			return err
		}
		if s, ok := v.(string); ok && isByteArray(t) {
			if len(s) > int(t.Nelems) {
				return fmt.Errorf("string %q too long for %s (at most %d characters)", s, typeName(t), t.Nelems)
			}
			copy(buf[off:], s)
			return nil
		}
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("expected an array for %s, got %s", typeName(t), describe(v))
		}
		if len(arr) > int(t.Nelems) {
			return fmt.Errorf("%d elements for %s", len(arr), typeName(t))
		}
		for i, e := range arr {
			if err := encode(t.Type, e, buf, off+i*esize); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	case *ebpfbtf.Struct:
		return encodeMembers(typeName(t), t.Members, v, buf, off)
	case *ebpfbtf.Union:
		return encodeMembers(typeName(t), t.Members, v, buf, off)
	case *ebpfbtf.Datasec:
		return encodeDatasec(t, v, buf, off)
	}
	return fmt.Errorf("cannot parse a value of type %s", typeName(t))
}

func truncSigned(v uint64, size int) *big.Int {
	switch size {
	case 1:
		return big.NewInt(int64(int8(v)))
	case 2:
		return big.NewInt(int64(int16(v)))
	case 4:
		return big.NewInt(int64(int32(v)))
	}
	return big.NewInt(int64(v))
}

func encodeMembers(name string, ms []ebpfbtf.Member, v any, buf []byte, off int) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("expected an object for %s, got %s", name, describe(v))
	}
	used := 0
	for _, m := range ms {
		mv, ok := obj[m.Name]
		if !ok {
			continue
		}
		used++
		moff := off + int(m.Offset/8)
		if m.BitfieldSize > 0 {
			n, err := number(mv)
			if err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if err := putBits(buf, moff, uint(m.Offset%8), uint(m.BitfieldSize), n); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			continue
		}
		if err := encode(m.Type, mv, buf, moff); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	if used != len(obj) {
		for k := range obj {
			found := false
			for _, m := range ms {
				if m.Name == k {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("%s has no member %q", name, k)
			}
		}
	}
	return nil
}

func putBits(buf []byte, off int, bitOff, nbits uint, n *big.Int) error {
	if n.Sign() < 0 || n.BitLen() > int(nbits) {
		return fmt.Errorf("%s does not fit in %d bits", n, nbits)
	}
	for i := uint(0); i < nbits; i++ {
		bit := bitOff + i
		idx := off + int(bit/8)
		if idx >= len(buf) {
			return fmt.Errorf("bitfield outside the value")
		}
		if n.Bit(int(i)) == 1 {
			buf[idx] |= 1 << (bit % 8)
		} else {
			buf[idx] &^= 1 << (bit % 8)
		}
	}
	return nil
}

func encodeDatasec(ds *ebpfbtf.Datasec, v any, buf []byte, off int) error {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 1 {
		return fmt.Errorf("expected {%q:[...]} for the data section", ds.Name)
	}
	list, ok := obj[ds.Name].([]any)
	if !ok {
		return fmt.Errorf("expected {%q:[...]} for the data section", ds.Name)
	}
	for _, item := range list {
		vo, ok := item.(map[string]any)
		if !ok {
			return fmt.Errorf("expected {\"variable\":value} in %s", ds.Name)
		}
		for name, val := range vo {
			found := false
			for _, vs := range ds.Vars {
				vr, ok := vs.Type.(*ebpfbtf.Var)
				if !ok || vr.Name != name {
					continue
				}
				found = true
				if err := encode(vr.Type, val, buf, off+int(vs.Offset)); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			if !found {
				return fmt.Errorf("%s has no variable %q", ds.Name, name)
			}
		}
	}
	return nil
}
