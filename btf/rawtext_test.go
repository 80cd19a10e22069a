package btf

import (
	"bytes"
	"debug/elf"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestRawTextRoundTrip prints the BTF of every committed test object in
// the raw format, parses the text, marshals it and prints the result: the
// two texts must be equal.
func TestRawTextRoundTrip(t *testing.T) {
	objs, _ := filepath.Glob("../testdata/*.bpf.o")
	more, _ := filepath.Glob("../testdata/*/*.bpf.o")
	objs = append(objs, more...)
	n := 0
	for _, obj := range objs {
		ef, err := elf.Open(obj)
		if err != nil {
			t.Fatal(err)
		}
		sec := ef.Section(".BTF")
		if sec == nil {
			ef.Close()
			continue
		}
		data, err := sec.Data()
		ef.Close()
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(data, nil)
		if err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		var first bytes.Buffer
		if err := WriteRaw(&first, s, nil); err != nil {
			t.Fatal(err)
		}
		types, err := ParseRaw(strings.Split(first.String(), "\n"))
		if err != nil {
			t.Errorf("%s: %v", obj, err)
			continue
		}
		blob, err := Marshal(types, nil)
		if err != nil {
			t.Errorf("%s: %v", obj, err)
			continue
		}
		back, err := Parse(blob, nil)
		if err != nil {
			t.Errorf("%s: marshalled BTF does not parse: %v", obj, err)
			continue
		}
		var second bytes.Buffer
		if err := WriteRaw(&second, back, nil); err != nil {
			t.Fatal(err)
		}
		if d := testutil.FirstDiff(second.Bytes(), first.Bytes()); d != "" {
			t.Errorf("%s: raw text differs after the round trip:\n%s", obj, d)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d objects with BTF", n)
	}
}
