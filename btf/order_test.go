package btf

import (
	"bytes"
	"debug/elf"
	"testing"
)

func sectionOf(t *testing.T, path, name string) []byte {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(name)
	if s == nil {
		t.Fatalf("%s: no section %s", path, name)
	}
	b, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBigEndianOrder: the .BTF and .BTF.ext that clang writes for the
// little-endian build of a source, turned big-endian, are byte for byte
// those of its big-endian build (clang -target bpfeb).
func TestBigEndianOrder(t *testing.T) {
	const le, be = "../asm/testdata/lines.bpf.o", "../asm/testdata/lines.bpfeb.o"
	for _, c := range []struct {
		sec  string
		conv func([]byte) ([]byte, error)
	}{{".BTF", BigEndianBTF}, {".BTF.ext", BigEndianExt}} {
		got, err := c.conv(sectionOf(t, le, c.sec))
		if err != nil {
			t.Fatalf("%s: %v", c.sec, err)
		}
		if want := sectionOf(t, be, c.sec); !bytes.Equal(got, want) {
			t.Errorf("%s: big-endian conversion differs from clang's (%d bytes, want %d)", c.sec, len(got), len(want))
		}
	}
	if _, err := BigEndianBTF(sectionOf(t, be, ".BTF")); err == nil {
		t.Error("BigEndianBTF takes big-endian input")
	}
	if _, err := BigEndianExt([]byte{1, 2, 3}); err == nil {
		t.Error("BigEndianExt takes 3 bytes")
	}
}
