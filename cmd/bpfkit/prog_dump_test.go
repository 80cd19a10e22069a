package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/testprogs"
	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// disasmObject is the disassembler's test object: line info, global data,
// a map, a subprogram, a bpf_loop callback and kfuncs.
const disasmObject = "../../asm/testdata/lines.bpf.o"

// loadProgramIDs loads every program of an object file until the test
// ends, and returns their IDs by name.
func loadProgramIDs(t *testing.T, path string) map[string]uint32 {
	t.Helper()
	if path == disasmObject {
		testutil.Requires(t, "rcu_kfuncs") // lines_prog calls bpf_rcu_read_lock
	}
	coll := testutil.LoadCollection(t, path)
	ids := make(map[string]uint32)
	for name, p := range coll.Programs {
		info, err := p.Info()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := info.ID()
		ids[name] = uint32(id)
	}
	return ids
}

// TestProgDumpXlatedMatchesBpftool runs `prog dump xlated` end to end and
// compares it byte for byte with bpftool v7.1.0 in every mode it supports,
// and the DOT graph (visual, with opcodes and linum) with v7.8.0's.
func TestProgDumpXlatedMatchesBpftool(t *testing.T) {
	ids := loadProgramIDs(t, disasmObject)
	for name, id := range ids {
		for _, mode := range [][]string{nil, {"linum"}, {"opcodes"}} {
			args := append([]string{"prog", "dump", "xlated", "id", itoa(id)}, mode...)
			if got, want := mustBpfkit(t, args...), string(testutil.BpftoolOutput(t, args...)); got != want {
				t.Errorf("%s %v: differs from bpftool:\n%s\n--- bpftool\n%s", name, mode, got, want)
			}
			jargs := append([]string{"-j"}, args...)
			if got, want := mustBpfkit(t, jargs...), string(testutil.BpftoolOutput(t, jargs...)); got != want {
				t.Errorf("%s -j %v: differs from bpftool:\n%s\n--- bpftool\n%s", name, mode, got, want)
			}
		}
		compareVisual(t, name, id)
	}
}

// compareVisual compares `prog dump xlated id ID visual` with bpftool
// v7.8.0's, byte for byte, alone and with opcodes, linum or both.
func compareVisual(t *testing.T, name string, id uint32) {
	t.Helper()
	for _, mode := range [][]string{nil, {"opcodes"}, {"linum"}, {"linum", "opcodes"}} {
		args := append([]string{"prog", "dump", "xlated", "id", itoa(id), "visual"}, mode...)
		got, want := mustBpfkit(t, args...), testutil.Bpftool78Output(t, args...)
		if got != string(want) {
			t.Errorf("%s visual %v differs from bpftool v7.8.0 at %s", name, mode, testutil.FirstDiff([]byte(got), want))
		}
	}
}

// v71Text rewrites the current kernel's spelling of instructions Debian's
// bpftool v7.1.0 predates into v7.1.0's (reference/bpftool.md §3.4); the
// asm package tests check bpfkit's spelling of each.
var v71Text = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\(bf\) r(\d+) = &\(void __percpu \*\)\(r(\d+)\)`), "(bf) r$1 = r$2"},
	{regexp.MustCompile(`\(bf\) r(\d+) = addr_space_cast\(r(\d+), \d+, \d+\)`), "(bf) r$1 = r$2"},
	{regexp.MustCompile(` s([/%])= `), " $1= "},
	{regexp.MustCompile(` = \(s(8|16|32)\)([rw])`), " = $2"},
	{regexp.MustCompile(`\(d7\) r\d+ = bswap\d+ r\d+`), "BUG_alu64_d7"},
	{regexp.MustCompile(`\(([0-9a-f]{2})\) r\d+ = \*\(s(8|16|32) \*\)\(r\d+ [+-]\d+\)`), "BUG_ldx_$1"},
	{regexp.MustCompile(`\(([0-9a-f]{2})\) (r\d+ = load_acquire|store_release)\(\([^)]*\)[^"\n]*`), "BUG_$1"},
}

// asV71Text rewrites a dump as bpftool v7.1.0 prints it (see v71Text).
func asV71Text(s string) string {
	for _, r := range v71Text {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// eachSharedProgram loads each shared test object that loads on its own
// and calls fn with each of its programs.
func eachSharedProgram(t *testing.T, fn func(obj, name string, id uint32)) {
	t.Helper()
	compared := 0
	for _, obj := range testutil.Objects(t, "*") {
		spec, err := ebpf.LoadCollectionSpec(obj)
		if err != nil {
			t.Fatal(err)
		}
		coll, err := ebpf.NewCollection(spec)
		if err != nil {
			t.Logf("%s: not loadable on its own: %v", obj, err)
			continue
		}
		for name, p := range coll.Programs {
			info, err := p.Info()
			if err != nil {
				t.Fatal(err)
			}
			id, _ := info.ID()
			fn(filepath.Base(obj), name, uint32(id))
			compared++
		}
		coll.Close()
	}
	if compared == 0 {
		t.Error("no program loaded")
	}
}

// TestProgDumpSharedObjects compares the dumps of every program of the
// shared test objects that loads on its own with bpftool's.
func TestProgDumpSharedObjects(t *testing.T) {
	testutil.RequirePrivileged(t)
	eachSharedProgram(t, func(obj, name string, id uint32) {
		// linum and opcodes cover the plain form too; v7.1.0 takes one
		// keyword at a time.
		for _, mode := range [][]string{{"linum"}, {"opcodes"}} {
			for _, global := range [][]string{nil, {"-j"}} {
				args := append(append(append([]string{}, global...), "prog", "dump", "xlated", "id", itoa(id)), mode...)
				if got, want := asV71Text(mustBpfkit(t, args...)), string(testutil.BpftoolOutput(t, args...)); got != want {
					t.Errorf("%s %s %v: differs from bpftool:\n%s\n--- bpftool\n%s", obj, name, args, got, want)
				}
			}
		}
	})
}

// TestProgDumpVisualSharedObjects: `visual` of the same programs is
// bpftool v7.8.0's graph. It is drawn from the xlated code the test above
// compares on each kernel, and bpftool takes seconds per graph under the
// guest's TCG: CI's guest run leaves it out (GUEST_SLOW in the Makefile).
func TestProgDumpVisualSharedObjects(t *testing.T) {
	testutil.RequirePrivileged(t)
	eachSharedProgram(t, func(obj, name string, id uint32) {
		compareVisual(t, obj+" "+name, id)
	})
}

// TestProgDumpSeveral dumps two programs matched by one name, with the
// program header bpftool prints before each.
func TestProgDumpSeveral(t *testing.T) {
	loadProgramIDs(t, disasmObject)
	loadProgramIDs(t, disasmObject)
	// Other tests (and other checkouts' tests) load the same object: when
	// the programs named second_prog change between the two runs, run
	// both again.
	ids := regexp.MustCompile(`(?m)^\d+: |"id":\d+`)
	for _, global := range [][]string{nil, {"-j"}} {
		args := append(global, "prog", "dump", "xlated", "name", "second_prog")
		for try := 1; ; try++ {
			got, want := mustBpfkit(t, args...), string(testutil.BpftoolOutput(t, args...))
			if got == want {
				break
			}
			same := slices.Equal(ids.FindAllString(got, -1), ids.FindAllString(want, -1))
			if same || try == 5 {
				t.Errorf("%v: differs from bpftool:\n%s\n--- bpftool\n%s", global, got, want)
				break
			}
		}
	}
}

// TestProgDumpAllInstructions checks the CLI against the library for the
// program with every instruction class (the library is compared with
// bpftool in the asm package), and `file` against bpftool's raw bytes.
func TestProgDumpAllInstructions(t *testing.T) {
	testutil.Requires(t, "isa_v4")
	prog, done, err := testprogs.LoadAllInstructions()
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	info, err := prog.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info.ID()
	lines := xlated(t, bpfasm.Xlated, info)
	var want bytes.Buffer
	bpfasm.Fprint(&want, lines, bpfasm.PrintOptions{Opcodes: true, Linum: true})
	if got := mustBpfkit(t, "prog", "dump", "xlated", "id", itoa(uint32(id)), "opcodes", "linum"); got != want.String() {
		t.Errorf("CLI output differs from the library's:\n%s", got)
	}
	for _, s := range []string{"s/=", "bswap64", "(s8)", "load_acquire", "store_release", "gotol", "atomic64_cmpxchg", "call pc+"} {
		if !strings.Contains(want.String(), s) {
			t.Errorf("dump lacks %q", s)
		}
	}

	dir := t.TempDir()
	ours, theirs := filepath.Join(dir, "ours"), filepath.Join(dir, "theirs")
	if out := mustBpfkit(t, "-j", "prog", "dump", "xlated", "id", itoa(uint32(id)), "file", ours); out != "null\n" {
		t.Errorf("file -j printed %q, want null", out)
	}
	testutil.BpftoolOutput(t, "prog", "dump", "xlated", "id", itoa(uint32(id)), "file", theirs)
	a, _ := os.ReadFile(ours)
	b, _ := os.ReadFile(theirs)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("file: %d bytes, bpftool wrote %d differing bytes", len(a), len(b))
	}
}

// TestProgDumpJited disassembles JITed code without libbfd: one block per
// function headed by its symbol, no undecodable bytes, the raw image with
// `file`, and bpftool's JSON shape.
func TestProgDumpJited(t *testing.T) {
	ids := loadProgramIDs(t, disasmObject)
	id := itoa(ids["lines_prog"])
	out := mustBpfkit(t, "prog", "dump", "jited", "id", id, "linum")
	for _, want := range []string{"int lines_prog(struct __sk_buff * skb):\n", "_lines_prog:\n", "int helper_sub(int x):\n",
		"; return x * factor + counter; [file:./lines.bpf.c line_num:35", "call"} {
		if !strings.Contains(out, want) {
			t.Errorf("jited dump lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "(bad)") {
		t.Errorf("undecodable bytes:\n%s", out)
	}
	js := testutil.DecodeJSON[any](t, []byte(mustBpfkit(t, "-j", "prog", "dump", "jited", "id", id, "opcodes")))
	funcs, ok := js.([]any)
	if !ok || len(funcs) != 3 {
		t.Fatalf("jited -j: want 3 functions, got %v", js)
	}
	first := funcs[0].(map[string]any)
	insn := first["insns"].([]any)[0].(map[string]any)
	for _, k := range []string{"pc", "operation", "operands", "opcodes"} {
		if _, ok := insn[k]; !ok {
			t.Errorf("jited -j instruction lacks %q: %v", k, insn)
		}
	}
	path := filepath.Join(t.TempDir(), "img")
	mustBpfkit(t, "prog", "dump", "jited", "id", id, "file", path)
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("jited file: %v %v", fi, err)
	}
}

func TestProgDumpErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prog", "dump", "xlated"}, "program specifier is missing"},
		{[]string{"prog", "dump", "xlated", "id", "1", "bogus"}, "unknown argument 'bogus'"},
		{[]string{"prog", "dump", "jited", "id", "1", "visual"}, "unknown argument 'visual'"},
		{[]string{"prog", "dump", "xlated", "id", "1", "file"}, "'file' needs a path"},
		{[]string{"prog", "dump", "xlated", "id", "1", "file", "x", "opcodes"}, "cannot be combined"},
		{[]string{"-j", "prog", "dump", "xlated", "id", "1", "visual"}, "not compatible with JSON"},
	} {
		r := bpfkit(t, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr+r.stdout, tc.want) {
			t.Errorf("%v: exit %d, output %q, want an error containing %q", tc.args, r.code, r.stderr+r.stdout, tc.want)
		}
	}
}

// xlated lists a loaded program's translated instructions with build
// (bpfasm.Xlated or XlatedGraph) and the kernel's symbols.
func xlated(t *testing.T, build func(*ebpf.ProgramInfo, bpfasm.SymbolTable) ([]bpfasm.Line, error), info *ebpf.ProgramInfo) []bpfasm.Line {
	t.Helper()
	ks, err := objects.LoadKallsyms()
	if err != nil {
		t.Fatal(err)
	}
	lines, err := build(info, ks)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
