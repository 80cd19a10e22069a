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
// committed test objects, cilium/ebpf's little-endian testdata objects and
// the objects embedded in the libbpf-tools binaries.
func roundTripObjects(t *testing.T) []string {
	objs := testutil.Objects(t, "*")
	for _, dir := range []string{"loader", "learner", "kernel"} {
		objs = append(objs, testutil.Objects(t, dir+"/*")...)
	}
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
	var objects, programs, insnBytes, fallbacks, skipped int
	for _, path := range roundTripObjects(t) {
		f, err := elfobj.Open(path)
		if err != nil {
			skipped++
			t.Logf("%s: not readable, left out: %v", path, err)
			continue
		}
		if !f.LittleEndian() {
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
	t.Logf("round trip: %d objects, %d programs, %d instruction bytes identical; %d instructions written as .insn; %d files left out", objects, programs, insnBytes, fallbacks, skipped)
	if objects < 60 {
		t.Fatalf("only %d objects round-tripped", objects)
	}
}
