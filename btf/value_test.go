package btf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/internal/testutil"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

var (
	u8    = testutil.BTFU8
	char  = testutil.BTFChar
	xchar = testutil.BTFXChar
	u32   = testutil.BTFU32
	s32   = testutil.BTFS32
	u64   = testutil.BTFU64
	u128  = testutil.BTFU128
	f64   = &ebpfbtf.Float{Name: "double", Size: 8}
	e64   = &ebpfbtf.Enum{Name: "big", Size: 8, Values: []ebpfbtf.EnumValue{{Name: "HUGE", Value: 1 << 63}}}
	e32   = &ebpfbtf.Enum{Name: "e", Size: 4, Values: []ebpfbtf.EnumValue{{Name: "NEG", Value: math.MaxUint64}}}
)

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func TestWriteValue(t *testing.T) {
	for _, c := range []struct {
		name        string
		typ         ebpfbtf.Type
		data        []byte
		plain, json string
	}{
		{"u32", u32, []byte{0xff, 0xff, 0xff, 0xff}, "4294967295", "4294967295"},
		{"s32", s32, []byte{0xfe, 0xff, 0xff, 0xff}, "-2", "-2"},
		{"char is a number", char, []byte{'A'}, "65", "65"},
		{"char-encoded", xchar, []byte{'A'}, `"A"`, `"A"`},
		{"char-encoded quote", xchar, []byte{'"'}, `"\""`, `"\""`},
		{"char-encoded control", xchar, []byte{7}, "0x7", `"\u0007"`},
		{"u128", u128, append(le64(1), le64(2)...), "0x20000000000000001", `"0x20000000000000001"`},
		{"u128 small", u128, append(le64(255), le64(0)...), "0xff", `"0xff"`},
		{"float", f64, le64(math.Float64bits(1.5)), "1.5", "1.5"},
		{"enum64 unsigned", e64, le64(1 << 63), `"HUGE"`, `"HUGE"`},
		{"enum64 unnamed", e64, le64(1<<63 + 1), "9223372036854775809", "9223372036854775809"},
		{"enum negative", e32, []byte{0xff, 0xff, 0xff, 0xff}, `"NEG"`, `"NEG"`},
		{"enum unnamed", e32, []byte{0xfe, 0xff, 0xff, 0xff}, "-2", "-2"},
		{"pointer", &ebpfbtf.Pointer{Target: u32}, le64(0x1000), "0x1000", "4096"},
		{"null pointer", &ebpfbtf.Pointer{Target: u32}, le64(0), "(nil)", "0"},
		{"string", &ebpfbtf.Array{Type: char, Nelems: 4}, []byte{'h', 'i', 0, 'x'}, `"hi"`, `"hi"`},
		{"unterminated", &ebpfbtf.Array{Type: char, Nelems: 2}, []byte{'h', 'i'}, "[104,105]", "[104,105]"},
		{"typedef char is not a string", &ebpfbtf.Array{Type: &ebpfbtf.Typedef{Name: "c", Type: u8}, Nelems: 2}, []byte{'h', 0}, "[104,0]", "[104,0]"},
		{"short data is padded", u64, []byte{1}, "1", "1"},
		{"bitfields", &ebpfbtf.Struct{Size: 4, Members: []ebpfbtf.Member{
			{Name: "a", Type: u32, BitfieldSize: 3},
			{Name: "b", Type: u32, Offset: 3, BitfieldSize: 29},
		}}, []byte{0x0d, 0, 0, 0x80}, `{"a":0x5,"b":0x10000001}`, `{"a":"0x5","b":"0x10000001"}`},
		{"datasec", &ebpfbtf.Datasec{Name: ".bss", Size: 8, Vars: []ebpfbtf.VarSecinfo{
			{Type: &ebpfbtf.Var{Name: "x", Type: u32}, Offset: 0, Size: 4},
			{Type: &ebpfbtf.Var{Name: "y", Type: s32}, Offset: 4, Size: 4},
		}}, []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, `{".bss":[{"x":1},{"y":-1}]}`, `{".bss":[{"x":1},{"y":-1}]}`},
	} {
		for _, m := range []struct {
			mode ValueMode
			want string
		}{{ValuePlain, c.plain}, {ValueJSON, c.json}} {
			got, err := FormatValue(c.typ, c.data, m.mode)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			if got != m.want {
				t.Errorf("%s (mode %d): got %s, want %s", c.name, m.mode, got, m.want)
			}
			if m.mode == ValueJSON && !json.Valid([]byte(got)) {
				t.Errorf("%s: invalid JSON %s", c.name, got)
			}
		}
	}
}

func TestWriteValueFwd(t *testing.T) {
	got, err := FormatValue(&ebpfbtf.Fwd{Name: "x"}, nil, ValuePlain)
	if err == nil || got != "(fwd-kind-invalid)" {
		t.Errorf("got %q, %v", got, err)
	}
}

// TestPrettyLayout checks json_writer's pretty quirks: objects break
// lines, arrays of scalars do not.
func TestPrettyLayout(t *testing.T) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	j := jsonw.New(w, true)
	j.StartArray()
	j.StartObject()
	j.Name("key")
	j.HexBytes([]byte{1, 2})
	j.Name("value")
	WriteValue(j, &ebpfbtf.Struct{Size: 4, Members: []ebpfbtf.Member{{Name: "a", Type: &ebpfbtf.Array{Type: u8, Nelems: 2}}}}, []byte{3, 4}, ValuePlain)
	j.EndObject()
	j.EndArray()
	w.Flush()
	want := "[{\n        \"key\": [\"0x01\",\"0x02\"\n        ],\n        \"value\": {\n            \"a\": [3,4\n            ]\n        }\n    }\n]"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestParseValue(t *testing.T) {
	st := &ebpfbtf.Struct{Name: "s", Size: 16, Members: []ebpfbtf.Member{
		{Name: "a", Type: u32},
		{Name: "bf", Type: u32, Offset: 32, BitfieldSize: 4},
		{Name: "name", Type: &ebpfbtf.Array{Type: char, Nelems: 8}, Offset: 64},
	}}
	for _, c := range []struct {
		typ  ebpfbtf.Type
		text string
		want []byte
		err  string
	}{
		{u32, "0x10", []byte{16, 0, 0, 0}, ""},
		{u32, "010", []byte{8, 0, 0, 0}, ""},
		{s32, "-1", []byte{0xff, 0xff, 0xff, 0xff}, ""},
		{u32, "-1", nil, "out of range"},
		{u32, "abc", nil, "not a number"},
		{xchar, "A", []byte{'A'}, ""},
		{e64, "HUGE", le64(1 << 63), ""},
		{e32, "NEG", []byte{0xff, 0xff, 0xff, 0xff}, ""},
		{f64, "1.5", le64(math.Float64bits(1.5)), ""},
		{&ebpfbtf.Int{Name: "_Bool", Size: 1, Encoding: ebpfbtf.Bool}, "true", []byte{1}, ""},
		{st, `{"a":1,"bf":"0x9","name":"bob"}`, []byte{1, 0, 0, 0, 9, 0, 0, 0, 'b', 'o', 'b', 0, 0, 0, 0, 0}, ""},
		{st, `{"bf":16}`, nil, "does not fit in 4 bits"},
		{st, `{"name":"far too long"}`, nil, "too long"},
		{st, `{"a":1} x`, nil, "trailing data"},
		{st, `[1]`, nil, "expected an object"},
		{&ebpfbtf.Array{Type: u8, Nelems: 2}, `[1,2,3]`, nil, "3 elements"},
	} {
		got, err := ParseValue(c.typ, c.text)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want error %q", c.text, err, c.err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: got %v %v, want %v", c.text, got, err, c.want)
		}
	}
}

func FuzzParseValue(f *testing.F) {
	st := &ebpfbtf.Struct{Name: "s", Size: 24, Members: []ebpfbtf.Member{
		{Name: "a", Type: u32},
		{Name: "bf", Type: u32, Offset: 32, BitfieldSize: 4},
		{Name: "name", Type: &ebpfbtf.Array{Type: char, Nelems: 8}, Offset: 64},
		{Name: "e", Type: e64, Offset: 128},
	}}
	for _, s := range []string{`{"a":1,"bf":3,"name":"x","e":"HUGE"}`, `{"name":[1,2]}`, "{}", "1", `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseValue(st, s)
		if err != nil {
			return
		}
		if len(b) != 24 {
			t.Fatalf("%d bytes", len(b))
		}
		// What parses must print and parse back to the same bytes.
		out, err := FormatValue(st, b, ValueJSON)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseValue(st, out); err != nil {
			t.Fatalf("reparse %s: %v", out, err)
		}
	})
}
