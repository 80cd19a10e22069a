package assembler

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// roundTripObjects lists every object the round trip runs on: the
// committed test objects (with the big-endian builds of asm/testdata),
// cilium/ebpf's testdata objects in both byte orders and the objects
// embedded in the libbpf-tools binaries.
func roundTripObjects(t *testing.T) []string {
	objs := testutil.Objects(t, "*")
	for _, dir := range []string{"loader", "learner", "kernel"} {
		objs = append(objs, testutil.Objects(t, dir+"/*")...)
	}
	objs = append(objs, bigEndianObjects(t)...)
	asmObjs, _ := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "asm", "testdata", "*.bpf.o"))
	objs = append(objs, asmObjs...)
	cilium, _ := filepath.Glob(filepath.Join(testutil.CiliumModuleDir(t), "testdata", "*-el.elf"))
	if len(cilium) == 0 {
		t.Fatal("no cilium/ebpf testdata objects")
	}
	objs = append(objs, cilium...)
	testutil.RequireTool(t, "opensnoop")
	tools, _ := filepath.Glob("/usr/sbin/*")
	for _, p := range tools {
		data, err := os.ReadFile(p)
		if err == nil && len(elfobj.FindEmbedded(data)) > 0 {
			objs = append(objs, p)
		}
	}
	return objs
}

// bigEndianObjects lists the big-endian objects: asm/testdata/*.bpfeb.o
// (clang -target bpfeb) and cilium/ebpf's *-eb.elf.
func bigEndianObjects(t *testing.T) []string {
	objs, _ := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "asm", "testdata", "*.bpfeb.o"))
	cilium, _ := filepath.Glob(filepath.Join(testutil.CiliumModuleDir(t), "testdata", "*-eb.elf"))
	if len(objs) < 3 || len(cilium) == 0 {
		t.Fatalf("big-endian objects missing: %d in asm/testdata, %d of cilium/ebpf", len(objs), len(cilium))
	}
	return append(objs, cilium...)
}

// relocSet lists a file's relocations of executable and data sections as
// "section offset type symbol".
func relocSet(f *elfobj.File) []string {
	var out []string
	for _, rs := range f.Relocations {
		tgt := f.Sections[rs.TargetIndex]
		if tgt.FlagsNum&shfAlloc == 0 {
			continue
		}
		for _, r := range rs.Entries {
			out = append(out, fmt.Sprintf("%s %#x %s %s", tgt.Name, r.Offset, r.Type, r.Symbol))
		}
	}
	sort.Strings(out)
	return out
}

func codeSections(f *elfobj.File) map[string][]byte {
	out := map[string][]byte{}
	for i, s := range f.Sections {
		if s.FlagsNum&shfExec != 0 && s.Size > 0 {
			out[s.Name] = f.SectionBytes(i)
		}
	}
	return out
}

// TestRoundTrip: dump, build, and the rebuilt object has the same
// instructions, relocations to the same symbols, and dumps the same.
func TestRoundTrip(t *testing.T) {
	var objects, bigEndian, programs, insnBytes, fallbacks, skipped int
	for _, path := range roundTripObjects(t) {
		f, err := elfobj.Open(path)
		if err != nil {
			skipped++
			t.Logf("%s: not readable, left out: %v", path, err)
			continue
		}
		name := filepath.Base(path)
		text, fb, err := Dump(f, DumpOptions{})
		if err != nil {
			t.Errorf("%s: dump: %v", name, err)
			continue
		}
		obj, err := Assemble(name+".s", text)
		if err != nil {
			t.Errorf("%s: build: %v", name, err)
			continue
		}
		g, err := elfobj.Read(obj)
		if err != nil {
			t.Errorf("%s: the built object does not read: %v", name, err)
			continue
		}
		if g.LittleEndian() != f.LittleEndian() {
			t.Errorf("%s: built in byte order %s, the original is %s", name, g.ByteOrder, f.ByteOrder)
		}
		if !f.LittleEndian() {
			bigEndian++
		}
		want, got := codeSections(f), codeSections(g)
		if len(want) != len(got) {
			t.Errorf("%s: %d code sections, rebuilt has %d", name, len(want), len(got))
		}
		for sec, code := range want {
			if !bytes.Equal(code, got[sec]) {
				t.Errorf("%s: section %s: instructions differ after the round trip", name, sec)
			}
			insnBytes += len(code)
		}
		if w, g := relocSet(f), relocSet(g); strings.Join(w, "\n") != strings.Join(g, "\n") {
			t.Errorf("%s: relocations differ:\n%s", name, testutil.FirstDiff([]byte(strings.Join(g, "\n")), []byte(strings.Join(w, "\n"))))
		}
		text2, _, err := Dump(g, DumpOptions{})
		if err != nil {
			t.Errorf("%s: dump of the rebuilt object: %v", name, err)
		} else if !bytes.Equal(text, text2) {
			t.Errorf("%s: the rebuilt object dumps differently:\n%s", name, testutil.FirstDiff(text2, text))
		}
		for _, p := range f.Programs {
			if !p.Subprogram {
				programs++
			}
		}
		objects++
		fallbacks += fb
	}
	t.Logf("round trip: %d objects (%d big-endian), %d programs, %d instruction bytes identical; %d instructions written as .insn; %d files left out", objects, bigEndian, programs, insnBytes, fallbacks, skipped)
	if objects < 60 || bigEndian < 10 {
		t.Fatalf("only %d objects round-tripped, %d big-endian", objects, bigEndian)
	}
}
