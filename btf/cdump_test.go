package btf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// compileC compiles a C file that includes header with clang for the BPF
// target and fails with clang's first errors.
func compileC(t *testing.T, header []byte, extra string) {
	t.Helper()
	clang := testutil.RequireTool(t, "clang-14")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), header, 0o644); err != nil {
		t.Fatal(err)
	}
	src := "#include \"vmlinux.h\"\n" + extra
	if err := os.WriteFile(filepath.Join(dir, "prog.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(clang, "-target", "bpf", "-O2", "-Werror", "-Wno-pragma-clang-attribute", "-ferror-limit=20", "-c", "prog.c", "-o", "prog.o")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
}

// dumpC returns bpfkit's C dump of the types roots of s and what they
// need (every type when roots is empty).
func dumpC(t *testing.T, s *Spec, roots []TypeID) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteC(&buf, s, roots); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// loadVmlinux parses the running kernel's BTF, or skips without it.
func loadVmlinux(t *testing.T) *Spec {
	t.Helper()
	if _, err := os.Stat(vmlinuxPath); err != nil {
		t.Skip("no kernel BTF")
	}
	s, err := ParseFile(vmlinuxPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// layoutAsserts returns C static assertions of the size of every struct
// and union whose name is unique in s, and of the offset of their
// non-bitfield members: clang must lay the header out as BTF says. Types
// holding a va_list by value are left out: va_list is a 24-byte array on
// x86 but a pointer on the BPF target.
func layoutAsserts(s *Spec) string {
	tags := map[string]int{}
	for id := TypeID(1); id < s.End(); id++ {
		t := s.Type(id)
		switch t.Kind {
		case KindStruct, KindUnion, KindEnum, KindEnum64:
			if t.Name != "" {
				tags[t.Name]++
			}
		}
	}
	memo := map[TypeID]bool{}
	var hasVaList func(id TypeID) bool
	hasVaList = func(id TypeID) bool {
		if v, ok := memo[id]; ok {
			return v
		}
		memo[id] = false
		t := s.Type(id)
		v := false
		switch t.Kind {
		case KindTypedef:
			v = t.Name == "__builtin_va_list" || hasVaList(t.Type)
		case KindArray, KindConst, KindVolatile, KindRestrict, KindTypeTag:
			v = hasVaList(t.Type)
		case KindStruct, KindUnion:
			for _, m := range t.Members {
				v = v || hasVaList(m.Type)
			}
		}
		memo[id] = v
		return v
	}
	var b strings.Builder
	n := 0
	for id := TypeID(1); id < s.End(); id++ {
		t := s.Type(id)
		if (t.Kind != KindStruct && t.Kind != KindUnion) || t.Name == "" || tags[t.Name] != 1 || hasVaList(id) {
			continue
		}
		kw := strings.ToLower(t.Kind.String())
		n++
		fmt.Fprintf(&b, "_Static_assert(sizeof(%s %s) == %d, \"size of %s\");\n", kw, t.Name, t.Size, t.Name)
		for i := range t.Members {
			m := &t.Members[i]
			off := t.BitOffset(m)
			if m.Name == "" || t.BitfieldSize(m) != 0 || off%8 != 0 {
				continue
			}
			if mt := s.Type(m.Type); mt.Kind == KindInt && uint32(mt.IntBits) != mt.Size*8 {
				continue
			}
			fmt.Fprintf(&b, "_Static_assert(__builtin_offsetof(%s %s, %s) == %d, \"%s.%s\");\n", kw, t.Name, m.Name, off/8, t.Name, m.Name)
		}
	}
	return b.String()
}

func TestCVmlinuxCompiles(t *testing.T) {
	s := loadVmlinux(t)
	h := dumpC(t, s, nil)
	// Use a few kernel types, as a BPF program would.
	prog := `
int probe(struct task_struct *task, struct sk_buff *skb)
{
	return task->pid + skb->len + BPF_MAP_TYPE_HASH;
}
` + layoutAsserts(s)
	compileC(t, h, prog)
}

var (
	cTagDef      = regexp.MustCompile(`^(struct|union|enum) (\w+) \{`)
	cTypedefFunc = regexp.MustCompile(`\(\s*\*\s*(?:const\s+)?(\w+)\)`)
	cTypedefName = regexp.MustCompile(`(\w+)(\[\d*\])*;$`)
	cTypedefFn   = regexp.MustCompile(`(\w+)\(`)
	cEnumerator  = regexp.MustCompile(`^\t+(\w+) = -?\d+`)
)

// cHeaderNames returns the names a C header defines: struct, union and
// enum tags with a body, typedef names and enumerators.
func cHeaderNames(t *testing.T, h []byte) []string {
	t.Helper()
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(h))
	sc.Buffer(nil, 1<<20)
	inTypedef := false
	for sc.Scan() {
		line := sc.Text()
		if m := cTagDef.FindStringSubmatch(line); m != nil {
			seen[m[1]+" "+m[2]] = true
		}
		if strings.HasPrefix(line, "typedef ") {
			if strings.HasSuffix(line, "{") {
				inTypedef = true
				continue
			}
			m := cTypedefFunc.FindStringSubmatch(line)
			if m == nil {
				m = cTypedefName.FindStringSubmatch(line)
			}
			if m == nil {
				m = cTypedefFn.FindStringSubmatch(line)
			}
			if m == nil {
				t.Fatalf("cannot find the name in %q", line)
			}
			seen["typedef "+m[1]] = true
		}
		if inTypedef && strings.HasPrefix(line, "}") {
			if m := cTypedefName.FindStringSubmatch(line); m != nil {
				seen["typedef "+m[1]] = true
			}
			inTypedef = false
		}
		if m := cEnumerator.FindStringSubmatch(line); m != nil {
			seen["enumerator "+m[1]] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TestCVmlinuxNamesMatchBpftool checks that bpfkit's vmlinux.h defines
// exactly the structs, unions, enums, typedefs and enumerators that
// bpftool's does, with the same ___N names for duplicates.
func TestCVmlinuxNamesMatchBpftool(t *testing.T) {
	s := loadVmlinux(t)
	got := cHeaderNames(t, dumpC(t, s, nil))
	want := cHeaderNames(t, testutil.BpftoolOutput(t, "btf", "dump", "file", vmlinuxPath, "format", "c"))
	if len(want) < 1000 {
		t.Fatalf("bpftool's header defines only %d names", len(want))
	}
	var missing, extra []string
	for _, n := range want {
		if _, ok := slices.BinarySearch(got, n); !ok {
			missing = append(missing, n)
		}
	}
	for _, n := range got {
		if _, ok := slices.BinarySearch(want, n); !ok {
			extra = append(extra, n)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("%d names only in bpftool's header: %.20q\n%d only in bpfkit's: %.20q", len(missing), missing, len(extra), extra)
	}
}

// TestCObjectsMatchBpftool compares the C dump of each test object with
// bpftool's, byte for byte, and compiles it.
func TestCObjectsMatchBpftool(t *testing.T) {
	for _, obj := range testutil.Objects(t, "*") {
		t.Run(filepath.Base(obj), func(t *testing.T) {
			s, ok := parseObject(t, obj)
			if !ok {
				t.Fatalf("%s has no .BTF", obj)
			}
			got := dumpC(t, s, nil)
			compareLines(t, "format c", testutil.BpftoolOutput(t, "btf", "dump", "file", obj, "format", "c"), got)
			compileC(t, got, "")
		})
	}
}

// TestCRoots dumps one type of vmlinux and what it needs.
func TestCRoots(t *testing.T) {
	s := loadVmlinux(t)
	var root TypeID
	for id := TypeID(1); id < s.End(); id++ {
		if t := s.Type(id); t.Kind == KindStruct && t.Name == "sk_buff" {
			root = id
			break
		}
	}
	if root == 0 {
		t.Skip("no struct sk_buff")
	}
	h := dumpC(t, s, []TypeID{root})
	if !bytes.Contains(h, []byte("struct sk_buff {")) || bytes.Contains(h, []byte("struct task_struct {")) {
		t.Errorf("root dump of sk_buff: %d bytes, wrong set of types", len(h))
	}
	compileC(t, h, "int f(struct sk_buff *skb) { return skb->len; }\n")
}
