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

// TestCoreRelos reads the CO-RE relocations of every test object: as many
// as CountExt counts, each with a section, a root type and an accessor.
func TestCoreRelos(t *testing.T) {
	objs, _ := filepath.Glob("../testdata/*.o")
	seen := false
	for _, obj := range objs {
		f, err := elf.Open(obj)
		if err != nil {
			t.Fatal(err)
		}
		ext, _ := f.Section(".BTF.ext").Data()
		raw, _ := f.Section(".BTF").Data()
		f.Close()
		spec, err := Parse(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		relos, err := CoreRelos(ext, spec)
		c, _ := CountExt(ext)
		if err != nil || len(relos) != c.CoreRelos {
			t.Fatalf("%s: %d relocations, %v; CountExt counts %d", obj, len(relos), err, c.CoreRelos)
		}
		for _, r := range relos {
			if r.Section == "" || r.Access == "" || spec.Type(r.TypeID) == nil || r.Kind > CoreTypeMatches {
				t.Errorf("%s: %+v", obj, r)
			}
		}
		if filepath.Base(obj) == "core.bpf.o" {
			seen = true
			kinds := map[CoreReloKind]bool{}
			for _, r := range relos {
				kinds[r.Kind] = true
			}
			for _, k := range []CoreReloKind{CoreFieldByteOffset, CoreFieldExists, CoreFieldLShiftU64, CoreTypeExists, CoreTypeSize, CoreEnumvalExists, CoreEnumvalValue} {
				if !kinds[k] {
					t.Errorf("core.bpf.o has no relocation of kind %d", k)
				}
			}
		}
	}
	if !seen {
		t.Error("no core.bpf.o")
	}
}

// FuzzCoreRelos feeds hostile .BTF.ext sections to CoreRelos with the BTF
// of core.bpf.o: errors, never a panic.
func FuzzCoreRelos(f *testing.F) {
	ef, err := elf.Open("../testdata/core.bpf.o")
	if err != nil {
		f.Fatal(err)
	}
	ext, _ := ef.Section(".BTF.ext").Data()
	raw, _ := ef.Section(".BTF").Data()
	ef.Close()
	spec, err := Parse(raw, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ext)
	f.Add(ext[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		CoreRelos(b, spec)
	})
}
