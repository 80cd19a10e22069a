package elfobj

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

const malformedDir = "../testdata/malformed"

// malformedCases derive broken files from a good object, one defect each.
// With -update they are written to testdata/malformed; the test reads the
// committed files, so a change here shows up as a diff.
var malformedCases = []struct {
	name   string
	mutate func(t *testing.T, b []byte) []byte
}{
	{"empty.o", func(t *testing.T, b []byte) []byte { return nil }},
	{"text.o", func(t *testing.T, b []byte) []byte { return []byte("this is a text file, not an ELF object\n") }},
	{"elf32.o", func(t *testing.T, b []byte) []byte { b[4] = 1; return b }},
	{"bad-byte-order.o", func(t *testing.T, b []byte) []byte { b[5] = 3; return b }},
	{"exec.o", func(t *testing.T, b []byte) []byte { put16(b, 16, 2); return b }},
	{"truncated-header.o", func(t *testing.T, b []byte) []byte { return b[:40] }},
	{"truncated.o", func(t *testing.T, b []byte) []byte { return b[:len(b)/2] }},
	{"no-section-table.o", func(t *testing.T, b []byte) []byte { put64(b, 40, 0); return b }},
	{"section-table-past-end.o", func(t *testing.T, b []byte) []byte { put64(b, 40, uint64(len(b))+64); return b }},
	{"section-header-size.o", func(t *testing.T, b []byte) []byte { put16(b, 58, 32); return b }},
	{"too-many-sections.o", func(t *testing.T, b []byte) []byte {
		put16(b, 60, 0)
		put64(b, shdr(b, 0)+32, 1<<40)
		return b
	}},
	{"section-count-past-end.o", func(t *testing.T, b []byte) []byte {
		put16(b, 60, 0)
		put64(b, shdr(b, 0)+32, 60000)
		return b
	}},
	{"names-index-out-of-range.o", func(t *testing.T, b []byte) []byte { put16(b, 62, 200); return b }},
	{"names-not-a-string-table.o", func(t *testing.T, b []byte) []byte { put16(b, 62, uint16(section(t, b, ".text"))); return b }},
	{"section-past-end.o", func(t *testing.T, b []byte) []byte {
		put64(b, shdr(b, section(t, b, "socket"))+32, 1<<30)
		return b
	}},
	{"section-offset-overflow.o", func(t *testing.T, b []byte) []byte {
		put64(b, shdr(b, section(t, b, "socket"))+24, 0xfffffffffffffff0)
		return b
	}},
	{"section-name-outside-table.o", func(t *testing.T, b []byte) []byte {
		put32(b, shdr(b, section(t, b, "socket")), 0xffffff)
		return b
	}},
	{"unterminated-strings.o", func(t *testing.T, b []byte) []byte {
		h := shdr(b, section(t, b, ".strtab"))
		put64(b, h+32, binary.LittleEndian.Uint64(b[h+32:])-1)
		return b
	}},
	{"symtab-links-to-itself.o", func(t *testing.T, b []byte) []byte {
		i := section(t, b, ".symtab")
		put32(b, shdr(b, i)+40, uint32(i))
		return b
	}},
	{"rel-links-to-itself.o", func(t *testing.T, b []byte) []byte {
		i := section(t, b, ".relsocket")
		put32(b, shdr(b, i)+40, uint32(i))
		return b
	}},
	{"rel-target-out-of-range.o", func(t *testing.T, b []byte) []byte {
		put32(b, shdr(b, section(t, b, ".relsocket"))+44, 9999)
		return b
	}},
	{"symbol-entry-size.o", func(t *testing.T, b []byte) []byte {
		put64(b, shdr(b, section(t, b, ".symtab"))+56, 16)
		return b
	}},
	{"reloc-symbol-out-of-range.o", func(t *testing.T, b []byte) []byte {
		off := binary.LittleEndian.Uint64(b[shdr(b, section(t, b, ".relsocket"))+24:])
		put32(b, int(off)+12, 9999)
		return b
	}},
	{"corrupt-btf.o", func(t *testing.T, b []byte) []byte {
		h := shdr(b, section(t, b, ".BTF"))
		off := binary.LittleEndian.Uint64(b[h+24:])
		size := binary.LittleEndian.Uint64(b[h+32:])
		for i := off + 24; i < off+size; i++ {
			b[i] = 0xff
		}
		return b
	}},
}

func put16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }
func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func put64(b []byte, off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// shdr is the file offset of section header i (little-endian input).
func shdr(b []byte, i int) int { return int(binary.LittleEndian.Uint64(b[40:])) + i*elfSectionSize }

func section(t *testing.T, b []byte, name string) int {
	t.Helper()
	f, err := parseELF(append([]byte(nil), b...))
	if err != nil {
		t.Fatalf("the good object does not parse: %v", err)
	}
	for _, s := range f.Sections {
		if s.Name == name {
			return s.Index
		}
	}
	t.Fatalf("no section %s", name)
	return 0
}

// TestELFMalformed opens every file under testdata/malformed and checks
// the one-line error (or, for damage only BPF meaning suffers from, the
// BPF error) against testdata/malformed/errors.golden.
func TestELFMalformed(t *testing.T) {
	// The golden names files as seen from objects/, where the reader
	// used to live.
	t.Chdir("..")
	if *testutil.Update {
		good, err := os.ReadFile(testutil.Object(t, "socket"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range malformedCases {
			b := c.mutate(t, append([]byte(nil), good...))
			if err := os.WriteFile(filepath.Join(malformedDir, c.name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(malformedDir, "*.o"))
	if err != nil || len(files) < len(malformedCases) {
		t.Fatalf("malformed corpus has %d files, want at least %d (run with -update): %v", len(files), len(malformedCases), err)
	}
	files = append(files, malformedDir) // a directory
	var out strings.Builder
	for _, path := range files {
		f, err := Open(path)
		name := filepath.Base(path)
		switch {
		case err != nil:
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error has several lines: %q", name, err)
			}
			fmt.Fprintf(&out, "%s: error: %v\n", name, err)
		case f.BPFError != "":
			fmt.Fprintf(&out, "%s: ok, %d sections, bpf: %s\n", name, len(f.Sections), f.BPFError)
		default:
			t.Errorf("%s: no error from a malformed file", name)
		}
	}
	golden := filepath.Join(malformedDir, "errors.golden")
	if *testutil.Update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, []byte(out.String())) {
		t.Errorf("errors differ from %s (run with -update to accept):\n--- want\n%s--- got\n%s", golden, want, out.String())
	}
}
