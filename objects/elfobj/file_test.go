package elfobj

import (
	"bufio"
	"bytes"
	"debug/dwarf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// elfCorpus lists the objects the oracle tests run on: every committed
// test object, the objects libbpf-tools embed, and every object shipped in
// cilium/ebpf's module (both byte orders, written by people other than us).
func elfCorpus(t *testing.T) []string {
	t.Helper()
	files := append(testutil.Objects(t, "*"), skeletonObjects(t)...)
	err := filepath.WalkDir(testutil.CiliumModuleDir(t), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".elf") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// skeletonObjects extracts the BPF objects embedded in the libbpf-tools
// binaries (libbpf skeletons), when they are installed, into a temporary
// directory: objects built by another project's build.
func skeletonObjects(t *testing.T) []string {
	t.Helper()
	bins, _ := filepath.Glob("/usr/sbin/*")
	dir := t.TempDir()
	var out []string
	for _, bin := range bins {
		st, err := os.Stat(bin)
		if err != nil || !st.Mode().IsRegular() || st.Size() > 8<<20 {
			continue
		}
		data, err := os.ReadFile(bin)
		if err != nil || !bytes.HasPrefix(data, []byte("\x7fELF")) {
			continue
		}
		for i, e := range FindEmbedded(data) {
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.o", filepath.Base(bin), i))
			if err := os.WriteFile(path, data[e.Offset:e.Offset+e.Size], 0o644); err != nil {
				t.Fatal(err)
			}
			out = append(out, path)
		}
	}
	if len(out) == 0 {
		t.Logf("no libbpf skeletons under /usr/sbin (install libbpf-tools to test on them)")
	}
	return out
}

func mustOpen(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return f
}

// shortName is path's directory and file name, for subtest names.
func shortName(path string) string {
	return filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
}

var sectionLine = regexp.MustCompile(`^\s*\[\s*(\d+)\] (.*)$`)

// parseSectionTable reads readelf -S -W (or llvm-readelf's copy of it)
// into one field list per section: type, address, offset, size, entsize,
// flags, link, info, align. Names are checked against want.
func parseSectionTable(t *testing.T, out string, f *File) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		m := sectionLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		idx, _ := strconv.Atoi(m[1])
		if idx != len(rows) || idx >= len(f.Sections) {
			t.Fatalf("unexpected section line %q", line)
		}
		rest := strings.TrimLeft(m[2], " ")
		name := f.Sections[idx].Name
		if !strings.HasPrefix(rest, name) {
			t.Fatalf("section [%d]: tool says %q, we say name %q", idx, rest, name)
		}
		fields := strings.Fields(rest[len(name):])
		switch len(fields) {
		case 8: // no flags
			fields = append(fields[:5], append([]string{""}, fields[5:]...)...)
		case 9:
		default:
			t.Fatalf("section [%d]: cannot parse %q", idx, line)
		}
		// type addr off size es flg lk inf al -> as listed in the doc.
		rows = append(rows, fields)
	}
	return rows
}

// hexField parses a hexadecimal field of readelf's output.
func hexField(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("bad hex %q", s)
	}
	return v
}

// decField parses a decimal (or 0x-prefixed) field of readelf's output.
func decField(t *testing.T, s string) uint64 {
	t.Helper()
	if strings.HasPrefix(s, "0x") {
		return hexField(t, s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q", s)
	}
	return v
}

// TestELFSectionsMatchReadelf compares every section header with readelf
// -S -W number for number, and type names with llvm-readelf (binutils
// prints LLVM's types as LOOS+0xfff4cNN).
func TestELFSectionsMatchReadelf(t *testing.T) {
	for _, path := range elfCorpus(t) {
		t.Run(shortName(path), func(t *testing.T) {
			f := mustOpen(t, path)
			gnu := parseSectionTable(t, string(testutil.ToolOutput(t, "readelf", "-S", "-W", path)), f)
			llvm := parseSectionTable(t, string(testutil.ToolOutput(t, "llvm-readelf", "-S", "-W", path)), f)
			if len(gnu) != len(f.Sections) || len(llvm) != len(f.Sections) {
				t.Fatalf("readelf lists %d sections, llvm-readelf %d, we %d", len(gnu), len(llvm), len(f.Sections))
			}
			for i, s := range f.Sections {
				g := gnu[i]
				got := fmt.Sprintf("%s %x %x %x %x %q %d %d %d", llvm[i][0], s.Address, s.Offset, s.Size, s.EntSize, s.Flags, s.Link, s.Info, s.Align)
				want := fmt.Sprintf("%s %x %x %x %x %q %d %d %d", llvm[i][0], hexField(t, g[1]), hexField(t, g[2]), hexField(t, g[3]),
					hexField(t, g[4]), g[5], decField(t, g[6]), decField(t, g[7]), decField(t, g[8]))
				if s.Type != llvm[i][0] {
					t.Errorf("section [%d] %s: type %s, llvm-readelf says %s", i, s.Name, s.Type, llvm[i][0])
				}
				if got != want {
					t.Errorf("section [%d] %s:\n got  %s\n want %s (readelf)", i, s.Name, got, want)
				}
			}
		})
	}
}

// TestELFSymbolsMatchReadelf compares .symtab with readelf -s -W.
func TestELFSymbolsMatchReadelf(t *testing.T) {
	for _, path := range elfCorpus(t) {
		t.Run(shortName(path), func(t *testing.T) {
			f := mustOpen(t, path)
			out := string(testutil.ToolOutput(t, "readelf", "-s", "-W", path))
			var want []string
			in := false
			for _, line := range strings.Split(out, "\n") {
				switch {
				case strings.HasPrefix(line, "Symbol table '.symtab'"):
					in = true
					continue
				case strings.HasPrefix(line, "Symbol table"):
					in = false
				}
				fields := strings.Fields(line)
				if !in || len(fields) < 7 || !strings.HasSuffix(fields[0], ":") || fields[0] == "Num:" {
					continue
				}
				name := ""
				if len(fields) > 7 {
					name = strings.Join(fields[7:], " ")
				}
				want = append(want, fmt.Sprintf("%s %x %d %s %s %s %s %s", strings.TrimSuffix(fields[0], ":"),
					hexField(t, fields[1]), decField(t, fields[2]), fields[3], fields[4], fields[5], fields[6], name))
			}
			var got []string
			for _, s := range f.Symbols {
				got = append(got, fmt.Sprintf("%d %x %d %s %s %s %s %s", s.Num, s.Value, s.Size, s.Type, s.Bind, s.Visibility, s.Ndx, s.Name))
			}
			compareLines(t, "readelf -s", got, want)
		})
	}
}

func compareLines(t *testing.T, tool string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d entries, %s says %d", len(got), tool, len(want))
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			t.Errorf("entry %d:\n got  %s\n want %s (%s)", i, got[i], want[i], tool)
		}
	}
}

var relocHeader = regexp.MustCompile(`^Relocation section '(.*)' at offset (0x[0-9a-f]+) contains (\d+) entr`)

// parseRelocs reads readelf -r -W: one line per relocation, prefixed by
// its section, holding offset, info, type, symbol value and name.
func parseRelocs(t *testing.T, out string) []string {
	t.Helper()
	var rows []string
	section := ""
	for _, line := range strings.Split(out, "\n") {
		if m := relocHeader.FindStringSubmatch(line); m != nil {
			section = fmt.Sprintf("%s@%x", m[1], hexField(t, m[2]))
			continue
		}
		fields := strings.Fields(line)
		if section == "" || len(fields) < 3 || fields[0] == "Offset" {
			continue
		}
		row := fmt.Sprintf("%s %x %x %s", section, hexField(t, fields[0]), hexField(t, fields[1]), fields[2])
		if len(fields) >= 5 {
			row += fmt.Sprintf(" %x %s", hexField(t, fields[3]), strings.Join(fields[4:], " "))
		}
		rows = append(rows, row)
	}
	return rows
}

// TestELFRelocationsMatchReadelf compares every relocation with readelf
// -r -W, and the relocation type names with llvm-readelf (binutils still
// uses the old R_BPF_INSN_* names).
func TestELFRelocationsMatchReadelf(t *testing.T) {
	for _, path := range elfCorpus(t) {
		t.Run(shortName(path), func(t *testing.T) {
			f := mustOpen(t, path)
			gnu := parseRelocs(t, string(testutil.ToolOutput(t, "readelf", "-r", "-W", path)))
			llvm := parseRelocs(t, string(testutil.ToolOutput(t, "llvm-readelf", "-r", "-W", path)))
			var got, gotNames []string
			for _, rs := range f.Relocations {
				section := fmt.Sprintf("%s@%x", rs.Section, rs.Offset)
				for _, r := range rs.Entries {
					row := fmt.Sprintf("%s %x %x", section, r.Offset, r.Info)
					if r.SymbolIndex != 0 {
						gotNames = append(gotNames, row+" "+r.Type+fmt.Sprintf(" %x %s", r.SymbolValue, r.Symbol))
					} else {
						gotNames = append(gotNames, row+" "+r.Type)
					}
					got = append(got, row)
				}
			}
			// readelf: every number; llvm-readelf: the names as well.
			var want []string
			for _, w := range gnu {
				f := strings.Fields(w)
				want = append(want, strings.Join(f[:3], " "))
			}
			compareLines(t, "readelf -r", got, want)
			compareLines(t, "llvm-readelf -r", gotNames, llvm)
			for i := 0; i < len(gnu) && i < len(llvm); i++ {
				g, l := strings.Fields(gnu[i]), strings.Fields(llvm[i])
				if strings.Join(g[4:], " ") != strings.Join(l[4:], " ") {
					t.Errorf("readelf and llvm-readelf disagree on symbol: %s / %s", gnu[i], llvm[i])
				}
			}
		})
	}
}

var objdumpFunc = regexp.MustCompile(`^[0-9a-f]+ <(.+)>:$`)
var objdumpInsn = regexp.MustCompile(`^\s*(\d+):\t`)

// TestELFProgramsMatchObjdump checks that the program list is exactly the
// FUNC symbols of executable sections, and that instruction counts agree
// with llvm-objdump -d.
func TestELFProgramsMatchObjdump(t *testing.T) {
	for _, path := range elfCorpus(t) {
		t.Run(shortName(path), func(t *testing.T) {
			f := mustOpen(t, path)
			var funcs []string
			for _, s := range f.Symbols {
				if s.Type == "FUNC" && s.SectionIndex > 0 && int(s.SectionIndex) < len(f.Sections) &&
					strings.Contains(f.Sections[s.SectionIndex].Flags, "X") {
					funcs = append(funcs, f.Sections[s.SectionIndex].Name+" "+s.Name)
				}
			}
			var progs []string
			got := map[string]int{}
			for _, p := range f.Programs {
				progs = append(progs, p.Section+" "+p.Name)
				got[p.Section+" "+p.Name] = p.Insns
			}
			sort.Strings(funcs)
			sort.Strings(progs)
			compareLines(t, "FUNC symbols", progs, funcs)

			// Count objdump's lines inside each symbol's byte range: in a
			// linked object dead code may follow a function.
			bounds := map[string][2]uint64{}
			for _, p := range f.Programs {
				bounds[p.Section+" "+p.Name] = [2]uint64{p.Offset, p.Offset + p.Size}
			}
			isFunc := map[string]bool{}
			for _, fn := range funcs {
				isFunc[fn] = true
			}
			want := map[string]int{}
			section, current := "", ""
			sc := bufio.NewScanner(bytes.NewReader(testutil.ToolOutput(t, "llvm-objdump", "-d", "--no-show-raw-insn", path)))
			for sc.Scan() {
				line := sc.Text()
				if s, ok := strings.CutPrefix(line, "Disassembly of section "); ok {
					section, current = strings.TrimSuffix(s, ":"), ""
					continue
				}
				if m := objdumpFunc.FindStringSubmatch(line); m != nil {
					if isFunc[section+" "+m[1]] {
						current = section + " " + m[1]
					}
					continue
				}
				if m := objdumpInsn.FindStringSubmatch(line); current != "" && m != nil {
					n, _ := strconv.ParseUint(m[1], 10, 64)
					if b := bounds[current]; n*8 >= b[0] && n*8 < b[1] {
						want[current]++
					}
				}
			}
			for name, n := range got {
				if want[name] != n {
					t.Errorf("%s: %d instructions, llvm-objdump -d shows %d", name, n, want[name])
				}
			}
		})
	}
}

// TestELFEmbeddedSkeleton opens a libbpf-tools binary: the reader finds the
// object its skeleton embeds, and the listing is that object's.
func TestELFEmbeddedSkeleton(t *testing.T) {
	bin := testutil.RequireTool(t, "opensnoop")
	f := mustOpen(t, bin)
	if f.Embedded == nil || f.Embedded.Count != 1 || f.Embedded.Offset == 0 {
		t.Fatalf("embedded object not reported: %+v", f.Embedded)
	}
	var names []string
	for _, p := range f.Programs {
		names = append(names, p.Section)
	}
	if !strings.Contains(strings.Join(names, " "), "tracepoint/syscalls/sys_enter_openat") {
		t.Errorf("opensnoop's programs: %v", names)
	}
	// A host binary without an embedded object is still refused.
	if _, err := Open(testutil.Testdata(t, "malformed/x86_64.o")); !errors.Is(err, ErrNotBPF) {
		t.Errorf("x86_64.o: %v", err)
	}
}

// TestDWARF reads the learner's opensnoop: its record struct is only in
// DWARF, found as a local of the function whose inlined helper emits it;
// a copy without debug sections says so.
func TestDWARF(t *testing.T) {
	f, err := Open(testutil.Object(t, "learner/opensnoop"))
	if err != nil {
		t.Fatal(err)
	}
	dbg, err := f.Debug()
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := dbg.Type("struct event")
	if !ok || ev.Size() != 296 || ev.String() == "" {
		t.Fatalf("struct event: %v %v", ev, ok)
	}
	if st := ev.(*dwarf.StructType); len(st.Field) != 7 || st.Field[6].Name != "fname" || st.Field[6].ByteOffset != 40 {
		t.Errorf("struct event fields %+v", st.Field)
	}
	var names []string
	for _, lt := range dbg.LocalTypes("tracepoint__syscalls__sys_exit_openat") {
		names = append(names, lt.String())
	}
	if !slices.Contains(names, "struct event") {
		t.Errorf("locals of the exit program (trace_exit inlined): %v", names)
	}
	if rs := dbg.Records(296); len(rs) != 1 {
		t.Errorf("records of 296 bytes: %v", rs)
	}
	if _, ok := dbg.Type("u32"); !ok {
		t.Error("typedef u32 not found")
	}
	bare := &File{}
	if _, err := bare.DWARF(); !errors.Is(err, ErrNoDWARF) {
		t.Errorf("no sections: %v", err)
	}
}
