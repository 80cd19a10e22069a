package btf

import (
	"debug/elf"
	"encoding/binary"
	"path/filepath"
	"testing"
)

// TestCountExt counts the .BTF.ext records of every test object and
// checks them against the relocations that clang writes for them: one
// per func info, line info and CO-RE relocation (each names an
// instruction).
func TestCountExt(t *testing.T) {
	objs, err := filepath.Glob("../testdata/*.o")
	if err != nil || len(objs) == 0 {
		t.Fatalf("no test objects: %v", err)
	}
	for _, obj := range objs {
		f, err := elf.Open(obj)
		if err != nil {
			t.Fatal(err)
		}
		ext, err := f.Section(".BTF.ext").Data()
		if err != nil {
			t.Fatal(err)
		}
		rel := f.Section(".rel.BTF.ext")
		f.Close()
		c, err := CountExt(ext)
		if err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		if c.FuncInfos == 0 || c.LineInfos == 0 || uint64(c.FuncInfos+c.LineInfos+c.CoreRelos) != rel.Size/rel.Entsize {
			t.Errorf("%s: %+v, %d relocations", obj, c, rel.Size/rel.Entsize)
		}
	}
}

func TestCountExtHostile(t *testing.T) {
	hdr := func(hdrLen uint32, sub ...uint32) []byte {
		b := binary.LittleEndian.AppendUint16(nil, btfMagic)
		b = append(b, 1, 0)
		b = binary.LittleEndian.AppendUint32(b, hdrLen)
		for _, w := range sub {
			b = binary.LittleEndian.AppendUint32(b, w)
		}
		return b
	}
	// func info: record size 8, one section with 2 records.
	funcInfo := []uint32{8, 1, 2, 0, 0, 0, 0}
	good := hdr(24, 0, 28, 0, 0)
	for _, w := range funcInfo {
		good = binary.LittleEndian.AppendUint32(good, w)
	}
	if c, err := CountExt(good); err != nil || c != (ExtCounts{FuncInfos: 2}) {
		t.Fatalf("good: %+v, %v", c, err)
	}
	for name, b := range map[string][]byte{
		"empty":                nil,
		"bad magic":            append([]byte{0, 0}, good[2:]...),
		"header past the end":  append(hdr(1<<20, 0, 28, 0, 0), good[24:]...),
		"subsection past end":  append(hdr(24, 0, 1<<20, 0, 0), good[24:]...),
		"zero record size":     append(hdr(24, 4, 8, 0, 0), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		"records past the end": append(hdr(24, 4, 12, 0, 0), 0, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
		"section header cut":   append(hdr(24, 4, 8, 0, 0), 0, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0),
	} {
		if c, err := CountExt(b); err == nil {
			t.Errorf("%s: counted %+v", name, c)
		}
	}
}
