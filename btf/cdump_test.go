package btf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// dumpC returns bpfkit's C dump of s with opts.
func dumpC(t *testing.T, s *Spec, opts COptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteC(&buf, s, opts); err != nil {
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
	// Use a few kernel types and a kfunc, as a BPF program would.
	prog := `
int probe(struct task_struct *task, struct sk_buff *skb)
{
	struct task_struct *t = bpf_task_acquire(task);

	if (t)
		bpf_task_release(t);
	return task->pid + skb->len + BPF_MAP_TYPE_HASH;
}
` + layoutAsserts(s)
	h := dumpC(t, s, COptions{})
	if !bytes.Contains(h, []byte("bpf_task_acquire(")) {
		if kfuncTagged(s) {
			t.Fatal("the kernel tags its kfuncs, but the header declares no bpf_task_acquire")
		}
		// Kernels before 6.8 tag no kfunc in BTF (6.1 in the kernel
		// matrix): the header declares none, as bpftool's.
		t.Log("this kernel's BTF tags no kfunc: the program calls none")
		prog = strings.Replace(prog, "struct task_struct *t = bpf_task_acquire(task);", "struct task_struct *t = 0;", 1)
		prog = strings.Replace(prog, "bpf_task_release(t);", "t = 0;", 1)
	}
	compileC(t, h, prog)
	compileC(t, dumpC(t, s, COptions{Unsorted: true}), "")
}

// kfuncTagged reports whether s tags any function with bpf_kfunc.
func kfuncTagged(s *Spec) bool {
	for id := TypeID(1); id < s.End(); id++ {
		if ty := s.Type(id); ty.Kind == KindDeclTag && ty.Name == "bpf_kfunc" {
			return true
		}
	}
	return false
}

// cOrders are the two orders of a whole dump: bpftool 7.8's default
// (sorted) and `unsorted` (BTF order).
var cOrders = []struct {
	name     string
	unsorted bool
}{{"sorted", false}, {"unsorted", true}}

const kfuncMark = "\n/* BPF kfuncs */\n"

// checkC78 compares bpfkit's C dump of s, in both orders, with what
// bpftool v7.8.0 prints when run with args and then `format c
// [unsorted]` on the same BTF, byte for byte, and returns bpfkit's sorted
// header.
//
// One difference is allowed, where bpftool is wrong: its sorted dump
// walks its order from index 1, as if void sorted first, which skips the
// type that sorts first; when nothing else needs that type, as for the
// first anonymous enum of vmlinux, bpftool's header lacks it. bpfkit
// prints it last, before the kfuncs; what it prints must be what
// bpftool prints for that type alone (root_id).
func checkC78(t *testing.T, s *Spec, args ...string) []byte {
	t.Helper()
	var sorted []byte
	for _, o := range cOrders {
		cmd := append(append([]string{}, args...), "format", "c")
		if o.unsorted {
			cmd = append(cmd, "unsorted")
		}
		want := testutil.Bpftool78Output(t, cmd...)
		got := dumpC(t, s, COptions{Unsorted: o.unsorted})
		if o.unsorted {
			compareLines(t, "format c unsorted", want, got)
			continue
		}
		sorted = got
		k := bytes.Index(want, []byte(kfuncMark))
		if k < 0 {
			t.Fatalf("bpftool's header has no %q", kfuncMark)
		}
		n := len(got) - len(want)
		if n < 0 || !bytes.Equal(got[:k], want[:k]) || !bytes.Equal(got[k+n:], want[k:]) {
			compareLines(t, "format c", want, got)
			t.Fatalf("format c: bpfkit's header is not bpftool's with one declaration added before the kfuncs")
		}
		if n == 0 {
			continue
		}
		ids, err := cOrder(s, true)
		if err != nil {
			t.Fatal(err)
		}
		alone := testutil.Bpftool78Output(t, append(append([]string{}, cmd...), "root_id", strconv.Itoa(int(ids[0])))...)
		body := bytes.TrimPrefix(alone, []byte(cPreamble))
		body = body[:max(0, len(body)-len(cEpilogue))]
		if added := got[k : k+n]; !bytes.Equal(added, body) {
			t.Fatalf("format c: bpfkit adds %q for type [%d], which bpftool prints alone as %q", added, ids[0], body)
		}
		t.Logf("type [%d], first in bpftool's sorted order and missing from its header: %q", ids[0], got[k:k+n])
	}
	return sorted
}

// TestCVmlinuxMatchesBpftool78 compares vmlinux.h with bpftool 7.8's in
// both orders.
func TestCVmlinuxMatchesBpftool78(t *testing.T) {
	s := loadVmlinux(t)
	checkC78(t, s, "btf", "dump", "file", vmlinuxPath)
}

// TestCUnsortedMatchesBpftool71 compares the unsorted header with Debian's
// bpftool v7.1.0, which prints BTF order and is what Debian's users have:
// the two differ only in what 7.8 added (the macro preamble, the kfunc
// block) and in 1-byte enums, which 7.8 marks mode(byte) and 7.1 leaves
// int-sized.
func TestCUnsortedMatchesBpftool71(t *testing.T) {
	files := append([]string{vmlinuxPath}, testutil.Objects(t, "*")...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var s *Spec
			if f == vmlinuxPath {
				s = loadVmlinux(t)
			} else if s, _ = parseObject(t, f); s == nil {
				t.Fatalf("%s has no .BTF", f)
			}
			got := dumpC(t, s, COptions{Unsorted: true})
			got = bytes.Replace(got, []byte(cPreamble), []byte(cPreamble71), 1)
			k := bytes.Index(got, []byte(kfuncMark))
			end := bytes.Index(got, []byte("#endif\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop"))
			if k < 0 || end < k {
				t.Fatal("no kfunc block")
			}
			got = append(got[:k:k], got[end+len("#endif\n\n"):]...)
			got = bytes.ReplaceAll(got, []byte("} __attribute__((mode(byte)));\n"), []byte("};\n"))
			compareLines(t, "format c", testutil.BpftoolOutput(t, "btf", "dump", "file", f, "format", "c"), got)
		})
	}
}

// cPreamble71 is bpftool v7.1.0's preamble.
const cPreamble71 = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

`

// TestCObjectsMatchBpftool78 compares the C dump of each test object with
// bpftool 7.8's in both orders, and compiles it.
func TestCObjectsMatchBpftool78(t *testing.T) {
	for _, obj := range testutil.Objects(t, "*") {
		t.Run(filepath.Base(obj), func(t *testing.T) {
			s, ok := parseObject(t, obj)
			if !ok {
				t.Fatalf("%s has no .BTF", obj)
			}
			compileC(t, checkC78(t, s, "btf", "dump", "file", obj), "")
		})
	}
}

// TestCRoots dumps one type of vmlinux and what it needs, as bpftool 7.8
// does with root_id: no sorting and no kfuncs.
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
		t.Fatal("no struct sk_buff")
	}
	h := dumpC(t, s, COptions{Roots: []TypeID{root}})
	if !bytes.Contains(h, []byte("struct sk_buff {")) || bytes.Contains(h, []byte("struct task_struct {")) {
		t.Errorf("root dump of sk_buff: %d bytes, wrong set of types", len(h))
	}
	for _, o := range cOrders {
		args := []string{"btf", "dump", "file", vmlinuxPath, "format", "c", "root_id", strconv.Itoa(int(root))}
		if o.unsorted {
			args = append(args, "unsorted")
		}
		compareLines(t, "root_id "+o.name, testutil.Bpftool78Output(t, args...), dumpC(t, s, COptions{Roots: []TypeID{root}, Unsorted: o.unsorted}))
	}
	compileC(t, h, "int f(struct sk_buff *skb) { return skb->len; }\n")
}
