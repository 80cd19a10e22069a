package btf

import (
	"debug/elf"
	"io"
	"testing"
)

// objectBTF returns the .BTF section of the object file at path, read with
// debug/elf (the tests' own reader; bpfkit reads objects with
// objects/elfobj, which imports this package), and whether it has one.
func objectBTF(tb testing.TB, path string) ([]byte, bool) {
	tb.Helper()
	f, err := elf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sec := f.Section(".BTF")
	if sec == nil {
		return nil, false
	}
	data, err := io.ReadAll(sec.Open())
	if err != nil {
		tb.Fatal(err)
	}
	return data, true
}

// parseObject parses the BTF of the object file at path; ok is false when
// it has none.
func parseObject(tb testing.TB, path string) (s *Spec, ok bool) {
	tb.Helper()
	data, ok := objectBTF(tb, path)
	if !ok {
		return nil, false
	}
	s, err := Parse(data, nil)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return s, true
}
