package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// blob builds a little-endian BTF blob from type words and a string
// table (which must start with a NUL).
func blob(types []uint32, strs string) []byte {
	var tb bytes.Buffer
	for _, w := range types {
		binary.Write(&tb, binary.LittleEndian, w)
	}
	hdr := []uint32{0, 24, 0, uint32(tb.Len()), uint32(tb.Len()), uint32(len(strs))}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint16(btfMagic))
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, hdr[1:])
	b.Write(tb.Bytes())
	b.WriteString(strs)
	return b.Bytes()
}

func info(kind Kind, vlen int, kflag bool) uint32 {
	v := uint32(kind)<<24 | uint32(vlen)
	if kflag {
		v |= 1 << 31
	}
	return v
}

const strs = "\x00int\x00s\x00a\x00t\x00"

// Offsets into strs.
const (
	sInt = 1
	sS   = 5
	sA   = 7
	sT   = 9
)

var intType = []uint32{sInt, info(KindInt, 0, false), 4, 0x01000020} // [1] int

func TestParseHandBuilt(t *testing.T) {
	// [2] struct s { int a; } [3] typedef s t; [4] ptr -> t
	types := append(append([]uint32{}, intType...),
		sS, info(KindStruct, 1, false), 4, sA, 1, 0,
		sT, info(KindTypedef, 0, false), 2,
		0, info(KindPtr, 0, false), 3)
	s, err := Parse(blob(types, strs), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkDumps(t, s, "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n"+
		"[2] STRUCT 's' size=4 vlen=1\n\t'a' type_id=1 bits_offset=0\n"+
		"[3] TYPEDEF 't' type_id=2\n"+
		"[4] PTR '(anon)' type_id=3\n",
		"struct s {\n\tint a;\n};\n\ntypedef struct s t;\n")
}

// checkDumps checks the raw dump of s and that its C dump holds c.
func checkDumps(t *testing.T, s *Spec, raw, c string) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteRaw(&b, s, nil); err != nil {
		t.Fatal(err)
	}
	if b.String() != raw {
		t.Errorf("raw:\n%s\nwant:\n%s", b.String(), raw)
	}
	b.Reset()
	if err := WriteC(&b, s, COptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), c) {
		t.Errorf("C:\n%s\nwant it to hold:\n%s", b.String(), c)
	}
}

// TestSplitBTF parses split BTF, as kernel modules have: its type IDs and
// string offsets continue the base's.
func TestSplitBTF(t *testing.T) {
	base, err := Parse(blob(intType, strs), nil)
	if err != nil {
		t.Fatal(err)
	}
	// [2] struct mod { int a; } with "mod" at offset len(strs), [3] ptr.
	split := blob([]uint32{uint32(len(strs)), info(KindStruct, 1, false), 4, sA, 1, 0,
		0, info(KindPtr, 0, false), 2}, "mod\x00")
	s, err := Parse(split, base)
	if err != nil {
		t.Fatal(err)
	}
	checkDumps(t, s, "[2] STRUCT 'mod' size=4 vlen=1\n\t'a' type_id=1 bits_offset=0\n[3] PTR '(anon)' type_id=2\n",
		"struct mod {\n\tint a;\n};")
}

// TestHostileBTF feeds broken and cyclic BTF: every case must end in an
// error, never a panic or a hang.
func TestHostileBTF(t *testing.T) {
	good := blob(intType, strs)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short header", good[:10]},
		{"bad magic", append([]byte{0, 0}, good[2:]...)},
		{"truncated types", good[:len(good)-len(strs)-2]},
		{"type section past the end", func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint32(b[12:], 1<<30)
			return b
		}()},
		{"name offset out of range", blob([]uint32{999, info(KindInt, 0, false), 4, 32}, strs)},
		{"unknown kind", blob([]uint32{0, info(25, 0, false), 4}, strs)},
		{"dangling reference", blob([]uint32{0, info(KindPtr, 0, false), 7}, strs)},
		{"vlen past the end", blob([]uint32{sS, info(KindStruct, 1000, false), 4}, strs)},
		{"strings not terminated", blob(intType, "\x00int")},
	} {
		if _, err := Parse(tc.data, nil); err == nil {
			t.Errorf("%s: parsed", tc.name)
		}
	}

	for _, tc := range []struct {
		name  string
		types []uint32
	}{
		{"struct containing itself", []uint32{sS, info(KindStruct, 1, false), 4, sA, 1, 0}},
		{"pointer to itself", []uint32{0, info(KindPtr, 0, false), 1}},
		{"typedef of itself", []uint32{sT, info(KindTypedef, 0, false), 1}},
		{"const of itself", []uint32{0, info(KindConst, 0, false), 1}},
		{"array of itself", []uint32{0, info(KindArray, 0, false), 0, 1, 1, 4}},
		{"prototype returning itself", []uint32{0, info(KindFuncProto, 0, false), 2, 0, info(KindPtr, 0, false), 1}},
		{"typedef loop through a pointer", []uint32{sT, info(KindTypedef, 0, false), 2, 0, info(KindPtr, 0, false), 1}},
	} {
		s, err := Parse(blob(tc.types, strs), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err := WriteRaw(io.Discard, s, nil); err != nil {
			t.Errorf("%s: raw: %v", tc.name, err)
		}
		for _, unsorted := range []bool{false, true} {
			if err := WriteC(io.Discard, s, COptions{Unsorted: unsorted}); !errors.Is(err, errCycle) {
				t.Errorf("%s: C dump (unsorted %v): %v, want a cycle error", tc.name, unsorted, err)
			}
		}
	}

	// Types that C prints again at each use: anonymous structs inline
	// and prototypes as parameters. Doubling them at each of 48 levels
	// makes a header of 2^48 lines, which the dumper refuses early.
	for _, kind := range []Kind{KindStruct, KindFuncProto} {
		const levels = 48
		types := append([]uint32{}, intType...) // [1] int
		// [2] struct s { level 0 } or typedef level 0 t.
		if kind == KindStruct {
			types = append(types, sS, info(KindStruct, 1, false), 4, sA, 3, 0)
		} else {
			types = append(types, sT, info(KindTypedef, 0, false), 3)
		}
		for i := 0; i < levels; i++ { // [3+i] uses [4+i] twice
			next := uint32(4 + i)
			if i == levels-1 {
				next = 1
			}
			if kind == KindStruct {
				types = append(types, 0, info(KindStruct, 2, false), 4, sA, next, 0, sT, next, 0)
			} else {
				types = append(types, 0, info(KindFuncProto, 2, false), 1, sA, next, sT, next)
			}
		}
		s, err := Parse(blob(types, strs), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteC(io.Discard, s, COptions{}); !errors.Is(err, errTooLarge) {
			t.Errorf("%s doubling at each level: %v, want %v", kind, err, errTooLarge)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(blob(intType, strs))
	f.Add(blob(append(append([]uint32{}, intType...), sS, info(KindStruct, 2, true), 8, sA, 1, 3<<24, sT, 1, 3<<24|3), strs))
	for _, obj := range testutil.Objects(f, "*") {
		sec, ok := objectBTF(f, obj)
		if !ok {
			f.Fatalf("%s has no .BTF", obj)
		}
		f.Add(sec)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, nil)
		if err != nil {
			return
		}
		if err := WriteRaw(io.Discard, s, nil); err != nil {
			t.Fatal(err)
		}
		if err := writeRawJSONTo(io.Discard, s, nil, true); err != nil {
			t.Fatal(err)
		}
		for _, unsorted := range []bool{false, true} {
			if err := WriteC(io.Discard, s, COptions{Unsorted: unsorted}); err != nil && !errors.Is(err, errCycle) && !errors.Is(err, errTooLarge) {
				t.Fatal(err)
			}
		}
	})
}
