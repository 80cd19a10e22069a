package jsonw

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Marshaler is implemented by values that write themselves through a
// Writer, in their own field order.
type Marshaler interface {
	WriteJSON(j *Writer) error
}

// Value writes v as the next value, with encoding/json's rules (struct
// tags, omitempty, embedded structs, sorted map keys, null for nil
// pointers and slices) but in the writer's layout, so that every JSON
// output, compact or pretty, is laid out as bpftool's json_writer lays it
// out. A json.Marshaler's output is re-laid out token by token.
func (j *Writer) Value(v any) error {
	if v == nil {
		j.Null()
		return nil
	}
	return j.value(reflect.ValueOf(v))
}

var (
	marshalerType     = reflect.TypeFor[Marshaler]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func (j *Writer) value(v reflect.Value) error {
	if !v.IsValid() {
		j.Null()
		return nil
	}
	t := v.Type()
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && v.CanAddr() {
		// Methods with pointer receivers, as encoding/json finds them.
		if pt := reflect.PointerTo(t); pt.Implements(marshalerType) || pt.Implements(jsonMarshalerType) {
			return j.value(v.Addr())
		}
	}
	switch {
	case t.Implements(marshalerType):
		if isNilPointer(v) {
			j.Null()
			return nil
		}
		return v.Interface().(Marshaler).WriteJSON(j)
	case t.Implements(jsonMarshalerType):
		if isNilPointer(v) {
			j.Null()
			return nil
		}
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return err
		}
		return j.Relayout(b)
	case t.Implements(textMarshalerType) && t.Kind() != reflect.Pointer:
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return err
		}
		j.String(string(b))
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		j.Bool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		j.Int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		j.Uint(v.Uint())
	case reflect.Float32, reflect.Float64:
		return j.float(v.Float(), t.Bits())
	case reflect.String:
		j.String(v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			j.Null()
			return nil
		}
		return j.value(v.Elem())
	case reflect.Struct:
		return j.structValue(v)
	case reflect.Map:
		return j.mapValue(v)
	case reflect.Slice:
		if v.IsNil() {
			j.Null()
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(marshalerType) {
			j.String(base64.StdEncoding.EncodeToString(v.Bytes()))
			return nil
		}
		return j.array(v)
	case reflect.Array:
		return j.array(v)
	default:
		return fmt.Errorf("jsonw: cannot write a %s", t)
	}
	return nil
}

func isNilPointer(v reflect.Value) bool {
	return (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil()
}

func (j *Writer) float(f float64, bits int) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("jsonw: unsupported value %v", f)
	}
	// encoding/json's choice between %f and %e.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	b := strconv.AppendFloat(nil, f, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	j.RawBytes(b)
	return nil
}

func (j *Writer) array(v reflect.Value) error {
	j.StartArray()
	for i := 0; i < v.Len(); i++ {
		if err := j.value(v.Index(i)); err != nil {
			return err
		}
	}
	j.EndArray()
	return nil
}

func (j *Writer) mapValue(v reflect.Value) error {
	if v.IsNil() {
		j.Null()
		return nil
	}
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, entry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	j.StartObject()
	for _, e := range entries {
		j.Name(e.key)
		if err := j.value(e.val); err != nil {
			return err
		}
	}
	j.EndObject()
	return nil
}

func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("jsonw: cannot write a map keyed by %s", k.Type())
}

func (j *Writer) structValue(v reflect.Value) error {
	j.StartObject()
	for _, f := range fieldsOf(v.Type()) {
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && isEmpty(fv) {
			continue
		}
		j.Name(f.name)
		if err := j.value(fv); err != nil {
			return err
		}
	}
	j.EndObject()
	return nil
}

// fieldByIndex is v.FieldByIndex, but reports false where a nil embedded
// pointer stands in the way.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// field is one JSON member of a struct type.
type field struct {
	name      string
	index     []int
	omitEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf returns the JSON members of struct type t in encoding/json's
// order: declaration order, embedded structs' fields in place, a field
// of a shallower struct winning over deeper ones of the same name.
func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var all []field
	collectFields(t, nil, &all)
	// Keep the shallowest field of each name (encoding/json's dominance,
	// without its tie rules: bpfkit's types have no ties).
	depth := map[string]int{}
	for _, f := range all {
		if d, ok := depth[f.name]; !ok || len(f.index) < d {
			depth[f.name] = len(f.index)
		}
	}
	fields := all[:0:0]
	for _, f := range all {
		if depth[f.name] == len(f.index) {
			fields = append(fields, f)
			depth[f.name] = -1
		}
	}
	fieldCache.Store(t, fields)
	return fields
}

func collectFields(t reflect.Type, index []int, out *[]field) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		idx := append(append([]int(nil), index...), i)
		ft := sf.Type
		if sf.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, idx, out)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		*out = append(*out, field{name: name, index: idx, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
}

// Relayout writes a JSON document (a json.Marshaler's output) as the next
// value, in the writer's layout.
func (j *Writer) Relayout(doc []byte) error {
	doc = bytes.TrimSpace(doc)
	if len(doc) > 0 && doc[0] != '{' && doc[0] != '[' && doc[0] != '"' {
		j.RawBytes(doc) // a number, true, false or null
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	// One frame per open container; key says an object's next token is a
	// member name.
	type frame struct{ object, key bool }
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("jsonw: relayout: %w", err)
		}
		if n := len(stack); n > 0 && stack[n-1].key {
			if name, ok := tok.(string); ok {
				j.Name(name)
				stack[n-1].key = false
				continue
			}
		}
		done := true // tok ends a value
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				j.StartObject()
				stack = append(stack, frame{object: true, key: true})
				done = false
			case '[':
				j.StartArray()
				stack = append(stack, frame{})
				done = false
			case '}':
				j.EndObject()
				stack = stack[:len(stack)-1]
			case ']':
				j.EndArray()
				stack = stack[:len(stack)-1]
			}
		case string:
			j.String(tok)
		case json.Number:
			j.Raw(string(tok))
		case bool:
			j.Bool(tok)
		case nil:
			j.Null()
		}
		if !done {
			continue
		}
		if len(stack) == 0 {
			return nil
		}
		if top := &stack[len(stack)-1]; top.object {
			top.key = true
		}
	}
}
