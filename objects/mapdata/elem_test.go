package mapdata

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/internal/testutil"
)

var (
	rawLayout   = Layout{Type: ebpf.Hash, KeySize: 4, ValueSize: 8}
	typedLayout = Layout{Type: ebpf.Hash, KeySize: 8, ValueSize: 104, KeyType: testutil.BTFKey, ValueType: testutil.BTFVal}
	enumLayout  = Layout{Type: ebpf.Array, KeySize: 4, ValueSize: 4, KeyType: testutil.BTFU32, ValueType: testutil.BTFColor}
	updateParts = ElemParts{Key: true, Value: true, Flags: true}
)

func TestParseElem(t *testing.T) {
	for _, c := range []struct {
		l     Layout
		words string
		parts ElemParts
		key   []byte
		value []byte
		flags ebpf.MapUpdateFlags
		err   string
	}{
		{l: rawLayout, words: "key 1 0 0 0 value 0xff 0 0 0 0 0 0 010", parts: updateParts,
			key: []byte{1, 0, 0, 0}, value: []byte{255, 0, 0, 0, 0, 0, 0, 8}},
		{l: rawLayout, words: "v hex ff ee dd cc bb aa 99 88 k hex 0a 00 00 00 noexist", parts: updateParts,
			key: []byte{10, 0, 0, 0}, value: []byte{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88}, flags: ebpf.UpdateNoExist},
		{l: rawLayout, words: "key 1 0 0 0 value 1 2 3 4 5 6 7 8 exist", parts: updateParts,
			key: []byte{1, 0, 0, 0}, value: []byte{1, 2, 3, 4, 5, 6, 7, 8}, flags: ebpf.UpdateExist},
		{l: rawLayout, words: "key 1 0 0", parts: ElemParts{Key: true}, err: "key expected 4 bytes got 3"},
		{l: rawLayout, words: "key 1 0 0 0 value 1", parts: updateParts, err: "value expected 8 bytes got 1"},
		{l: rawLayout, words: "key 1 0 zz 0", parts: ElemParts{Key: true}, err: "error parsing byte: zz"},
		{l: rawLayout, words: "key hex 1 0 0 g", parts: ElemParts{Key: true}, err: "error parsing byte: g"},
		{l: rawLayout, words: "key 256 0 0 0", parts: ElemParts{Key: true}, err: "error parsing byte: 256"},
		{l: rawLayout, words: "key 1 0 0 0 sometimes", parts: updateParts, err: "expected key or value, got: sometimes"},
		{l: rawLayout, words: "key 1 0 0 0 any any", parts: ElemParts{Key: true, OptKey: true, Value: false, Flags: true}, err: "flags specified multiple times: any"},
		{l: rawLayout, words: "key 1 0 0 0 key 1 0 0 0", parts: ElemParts{Key: true}, err: "duplicate key"},
		{l: rawLayout, words: "value 1 0 0 0 0 0 0 0", parts: ElemParts{Key: true}, err: "unnecessary value"},
		{l: rawLayout, words: "", parts: ElemParts{Key: true}, err: "did not find key"},
		{l: rawLayout, words: "key 1 0 0 0", parts: updateParts, err: "did not find value"},
		{l: rawLayout, words: "", parts: ElemParts{OptKey: true}},
		// typed input
		{l: enumLayout, words: "key 2 value BLUE", parts: updateParts, key: []byte{2, 0, 0, 0}, value: []byte{7, 0, 0, 0}},
		{l: enumLayout, words: "key 0x10 value 3", parts: updateParts, key: []byte{16, 0, 0, 0}, value: []byte{3, 0, 0, 0}},
		{l: enumLayout, words: "key 4294967296", parts: ElemParts{Key: true}, err: "out of range for unsigned int"},
		{l: enumLayout, words: "key -1", parts: ElemParts{Key: true}, err: "out of range"},
		{l: enumLayout, words: "key 1 value PURPLE", parts: updateParts, err: "value: enum color: not a value name or number"},
		{l: typedLayout, words: `key {"id":7,"port":443,"proto":17,"c":"x"}`, parts: ElemParts{Key: true},
			key: []byte{7, 0, 0, 0, 0xbb, 1, 17, 'x'}},
		{l: typedLayout, words: `key {"id":7,"nope":1}`, parts: ElemParts{Key: true}, err: `struct key has no member "nope"`},
		{l: typedLayout, words: `key 7`, parts: ElemParts{Key: true}, err: "expected an object for struct key"},
	} {
		in, err := ParseElem(strings.Fields(c.words), c.l, c.parts)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: got error %v, want %q", c.words, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.words, err)
			continue
		}
		if !bytes.Equal(in.Key, c.key) || !bytes.Equal(in.Value, c.value) || in.Flags != c.flags {
			t.Errorf("%q: got key %v value %v flags %v", c.words, in.Key, in.Value, in.Flags)
		}
	}
}

// TestTypedRoundTrip parses what the formatter prints and gets the same bytes.
func TestTypedRoundTrip(t *testing.T) {
	for i := 0; i < 3; i++ {
		v := testutil.BTFValue(i)
		s, err := btf.FormatValue(testutil.BTFVal, v, btf.ValueJSON)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			continue // "bin" and "name" have no NUL: arrays round-trip, covered below
		}
		b, err := btf.ParseValue(testutil.BTFVal, s)
		if err != nil {
			t.Fatalf("parse %s: %v", s, err)
		}
		// The anonymous member has no name to address it by; bytes past
		// the printable string in "name" are not part of the value.
		copy(b[100:], v[100:])
		copy(b[12:16], v[12:16])
		if !bytes.Equal(b, v) {
			t.Errorf("round trip of %s:\n got %x\nwant %x", s, b, v)
		}
	}
}

func FuzzParseElem(f *testing.F) {
	for _, s := range []string{
		"key 1 0 0 0 value 1 2 3 4 5 6 7 8 any",
		"key hex 0a 0b 0c 0d value hex ff ff ff ff ff ff ff ff noexist",
		"key 42 value RED",
		`key {"id":1,"port":2,"proto":3,"c":"a"} value {"a":1,"name":"abc","arr":[1,2],"u":{"x":3}}`,
		"k 0x1 0 0 0 v 010 0 0 0 0 0 0 0 e",
		"value 1",
		`value {".data":[{"counter":1}]}`,
	} {
		for l := byte(0); l < 3; l++ {
			f.Add(l, s)
		}
	}
	layouts := []Layout{rawLayout, typedLayout, enumLayout}
	f.Fuzz(func(t *testing.T, which byte, text string) {
		l := layouts[int(which)%len(layouts)]
		in, err := ParseElem(strings.Fields(text), l, updateParts)
		if err != nil {
			return
		}
		if len(in.Key) != int(l.KeySize) || len(in.Value) != int(l.ValueSize) {
			t.Fatalf("%q: key %d bytes, value %d bytes", text, len(in.Key), len(in.Value))
		}
	})
}
