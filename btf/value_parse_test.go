package btf

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	ebpfbtf "github.com/cilium/ebpf/btf"
)

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

// TestParseValueWords covers what `run --set` took before it shared
// ParseValue: strconv's bool words, byte arrays from any plain string up
// to their full length, and the word-first form of its errors.
func TestParseValueWords(t *testing.T) {
	boolT := &ebpfbtf.Int{Name: "_Bool", Size: 1, Encoding: ebpfbtf.Bool}
	tag := &ebpfbtf.Volatile{Type: &ebpfbtf.Const{Type: &ebpfbtf.Array{Type: char, Nelems: 4}}}
	mac := &ebpfbtf.Array{Type: &ebpfbtf.Typedef{Name: "__u8", Type: u8}, Nelems: 4}
	st := &ebpfbtf.Struct{Name: "s", Size: 4, Members: []ebpfbtf.Member{{Name: "a", Type: u32}}}
	for _, c := range []struct {
		typ  ebpfbtf.Type
		text string
		want []byte
	}{
		{boolT, "T", []byte{1}},
		{boolT, "FALSE", []byte{0}},
		{boolT, "True", []byte{1}},
		{tag, "abcd", []byte("abcd")},
		{tag, "123", []byte("123\x00")},
		{tag, "true", []byte("true")},
		{tag, `"x"y`, []byte(`"x"y`)},
		{tag, `"ab"`, []byte("ab\x00\x00")},
		{tag, `[1,2]`, []byte{1, 2, 0, 0}},
		{mac, "ab", []byte("ab\x00\x00")},
		{&ebpfbtf.Pointer{Target: u32}, "0x10", le64(16)},
		{f64, "-2.5", le64(math.Float64bits(-2.5))},
		// What people type: -1 for a signed field, exponents and
		// underscores for big whole numbers.
		{s32, "-1", []byte{0xff, 0xff, 0xff, 0xff}},
		{u32, "1e9", []byte{0x00, 0xca, 0x9a, 0x3b}},
		{u32, "2.5e3", []byte{0xc4, 0x09, 0, 0}},
		{u32, "1_000", []byte{0xe8, 0x03, 0, 0}},
		{&ebpfbtf.Pointer{Target: u32}, "1e3", le64(1000)},
	} {
		got, err := ParseValue(c.typ, c.text)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s %s: got %q %v, want %q", TypeName(c.typ), c.text, got, err, c.want)
		}
	}
	for _, c := range []struct {
		typ           ebpfbtf.Type
		text, problem string
	}{
		{u32, "-1", "is not a 32-bit unsigned integer (0 to 4294967295)"},
		{u32, "4294967296", "is not a 32-bit unsigned integer (0 to 4294967295)"},
		{u32, "1.5", "is not a 32-bit unsigned integer (0 to 4294967295)"},
		{u32, "1e10", "is not a 32-bit unsigned integer (0 to 4294967295)"},
		{s32, "x", "is not a 32-bit signed integer (-2147483648 to 2147483647)"},
		{boolT, "yes", "is not a bool"},
		{e32, "NOPE", "is neither a value of enum e nor a number"},
		{&ebpfbtf.Pointer{Target: u32}, "-1", "is not an address"},
		{f64, "1e400", "is not a float"},
		{tag, "abcde", "is longer than 4 bytes"},
	} {
		_, err := ParseValue(c.typ, c.text)
		var we *WordError
		if !errors.As(err, &we) || we.Word != c.text || we.Problem != c.problem {
			t.Errorf("%s %s: %#v", TypeName(c.typ), c.text, err)
		}
	}
	// Errors inside JSON are not about the word, and stray closing
	// brackets are trailing data.
	for _, text := range []string{`{"a":-1}`, `{"a":1}}`, `{"a":1}]`} {
		_, err := ParseValue(st, text)
		var we *WordError
		if err == nil || errors.As(err, &we) {
			t.Errorf("%s: %#v", text, err)
		}
	}
}
