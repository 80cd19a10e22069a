package jsonw

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

// write renders v through a Writer, compact or pretty.
func write(t *testing.T, v any, pretty bool) string {
	t.Helper()
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	j := New(bw, pretty)
	if err := j.Value(v); err != nil {
		t.Fatal(err)
	}
	if j.Depth() != 0 {
		t.Fatalf("depth %d after a value", j.Depth())
	}
	bw.Flush()
	return buf.String()
}

type name struct{ s string }

func (n name) MarshalJSON() ([]byte, error) { return strconv.AppendQuote(nil, n.s), nil }

type nested struct{}

func (*nested) MarshalJSON() ([]byte, error) {
	return []byte(`{"a": [1, 2, {"b": null}], "c": {}, "d": [], "e": "x\"y"}`), nil
}

type Inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

type outer struct {
	Inner
	ID      uint32            `json:"id"`
	Name    name              `json:"name"`
	Ptr     *int64            `json:"ptr,omitempty"`
	IDs     []uint32          `json:"ids,omitempty"`
	Empty   []string          `json:"empty"`
	Map     map[string]uint64 `json:"map,omitempty"`
	Nested  *nested           `json:"nested"`
	Skip    int               `json:"-"`
	Float   float64           `json:"float"`
	Bytes   []byte            `json:"bytes"`
	private int
	Untag   bool
	Any     any `json:"any"`
}

// The compact form is encoding/json's, byte for byte.
func TestValueCompactMatchesEncodingJSON(t *testing.T) {
	n := int64(-7)
	values := []any{
		nil, true, 42, -3, uint64(1) << 63, "tab\tquote\"back\\slash\nctl\x01", 1.5, 1e-7, 2e21, 0.0,
		[]int{}, []int(nil), [3]byte{1, 2, 3},
		map[string]int{"b": 2, "a": 1}, map[uint32]string{10: "x", 2: "y"},
		outer{Inner: Inner{A: 1}, ID: 7, Name: name{"n"}, Ptr: &n, IDs: []uint32{1, 2}, Map: map[string]uint64{"z": 1, "y": 2},
			Nested: &nested{}, Float: 0.25, Bytes: []byte("hi"), Any: []any{"s", 1, nil}},
		[]*outer{{}, nil},
	}
	for _, v := range values {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		// encoding/json keeps a json.Marshaler's spaces; jsonw lays it out.
		var compact bytes.Buffer
		if err := json.Compact(&compact, bytes.TrimSpace(want.Bytes())); err != nil {
			t.Fatal(err)
		}
		if got := write(t, v, false); got != compact.String() {
			t.Errorf("%#v:\n got  %s\n want %s", v, got, compact.String())
		}
	}
}

// The pretty form is bpftool's json_writer layout: objects break lines,
// arrays of scalars do not, "[{" opens a list of objects.
func TestValuePrettyIsBpftoolLayout(t *testing.T) {
	type prog struct {
		ID     uint32   `json:"id"`
		Type   string   `json:"type"`
		MapIDs []uint32 `json:"map_ids,omitempty"`
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{prog{ID: 1, Type: "xdp", MapIDs: []uint32{3, 4}},
			"{\n    \"id\": 1,\n    \"type\": \"xdp\",\n    \"map_ids\": [3,4\n    ]\n}"},
		{[]prog{{ID: 1, Type: "a"}, {ID: 2, Type: "b"}},
			"[{\n        \"id\": 1,\n        \"type\": \"a\"\n    },{\n        \"id\": 2,\n        \"type\": \"b\"\n    }\n]"},
		{[]prog{}, "[]"},
		{map[string]string{"error": "x"}, "{\n    \"error\": \"x\"\n}"},
		{&nested{}, "{\n    \"a\": [1,2,{\n            \"b\": null\n        }\n    ],\n    \"c\": {},\n    \"d\": [],\n    \"e\": \"x\\\"y\"\n}"},
	} {
		if got := write(t, tc.v, true); got != tc.want {
			t.Errorf("%#v:\n got  %q\n want %q", tc.v, got, tc.want)
		}
	}
}

func TestRelayoutRejectsBrokenJSON(t *testing.T) {
	var buf bytes.Buffer
	j := New(bufio.NewWriter(&buf), true)
	if err := j.Relayout([]byte(`{"a": [1,`)); err == nil {
		t.Error("no error for a truncated document")
	}
}
