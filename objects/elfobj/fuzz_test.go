package elfobj

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// FuzzRead feeds arbitrary bytes to the reader. It must return an error
// or a consistent file, never panic, and never allocate beyond what the
// input size allows. Seeds: every committed object, the malformed corpus,
// and testdata/fuzz/FuzzRead. Run it with make fuzz.
func FuzzRead(f *testing.F) {
	for _, pattern := range []string{testutil.Testdata(f, "*.bpf.o"), testutil.Testdata(f, "malformed/*.o"), testutil.Testdata(f, "learner/*.bpf.o"), "/usr/sbin/opensnoop"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := readOrEmbedded(data)
		if err != nil {
			if ef != nil {
				t.Fatal("a file and an error")
			}
			return
		}
		if ef.Embedded != nil {
			if ef.Embedded.Offset+ef.Embedded.Size > uint64(len(data)) {
				t.Fatalf("embedded object %+v outside %d bytes", ef.Embedded, len(data))
			}
			return
		}
		if len(ef.Sections) == 0 || uint64(len(ef.Sections))*elfSectionSize > uint64(len(data)) {
			t.Fatalf("%d sections from %d bytes", len(ef.Sections), len(data))
		}
		if uint64(len(ef.Symbols))*elfSymbolSize > uint64(len(data)) {
			t.Fatalf("%d symbols from %d bytes", len(ef.Symbols), len(data))
		}
		for _, p := range ef.Programs {
			if uint64(p.Insns)*bpfInsnSize > uint64(len(data)) {
				t.Fatalf("program %s has %d instructions in %d bytes", p.Name, p.Insns, len(data))
			}
		}
		// DWARF, relocated here, ends in types or an error.
		if dbg, err := ef.Debug(); err == nil {
			dbg.Records(-1)
			for _, p := range ef.Programs {
				dbg.LocalTypes(p.Name)
			}
		}
	})
}
