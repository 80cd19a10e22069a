package asm

import (
	"strings"
	"testing"
)

func TestDisassembleX86(t *testing.T) {
	code := []byte{
		0xf3, 0x0f, 0x1e, 0xfa, // endbr64
		0x0f, 0x1f, 0x44, 0x00, 0x00, // nopl 0x0(%rax,%rax,1)
		0x55,             // push %rbp
		0x48, 0x89, 0xe5, // mov %rsp,%rbp
		0xe8, 0xf6, 0x0f, 0x00, 0x00, // call base+0x1000+... (rel32 to base+0x1008)
		0xeb, 0x0a, // jmp over the movabs, inside the code
		0x48, 0xbf, 0x00, 0x98, 0x34, 0x04, 0x81, 0x88, 0xff, 0xff, // movabs $0xffff888104349800,%rdi
		0xc9, // leave
		0xc3, // ret
		0x0f, // truncated: undecodable
	}
	const base = 0xffffffffa0000000
	lookup := func(addr uint64) (string, bool) {
		if addr == base+0x1008 {
			return "bpf_map_lookup_elem", true
		}
		return "", false
	}
	insns, err := Disassemble(code, base, "amd64", lookup)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	total := 0
	for _, in := range insns {
		texts = append(texts, in.Text)
		total += len(in.Bytes)
	}
	got := strings.Join(texts, "; ")
	for _, want := range []string{"endbr64; nopl", "push %rbp", "mov %rsp,%rbp", "callq bpf_map_lookup_elem", "jmp 0x1e", "movabs $0xffff888104349800,%rdi", "(bad)"} {
		if !strings.Contains(got, want) {
			t.Errorf("x86 listing %q lacks %q", got, want)
		}
	}
	if total != len(code) {
		t.Errorf("decoded %d of %d bytes", total, len(code))
	}
	if !insns[len(insns)-1].Bad {
		t.Error("truncated instruction not marked bad")
	}
}

func TestDisassembleARM64(t *testing.T) {
	code := []byte{
		0xfd, 0x7b, 0xbf, 0xa9, // stp x29, x30, [sp,#-16]!
		0xfd, 0x03, 0x00, 0x91, // mov x29, sp
		0x02, 0x00, 0x00, 0x94, // bl +8
		0xc0, 0x03, 0x5f, 0xd6, // ret
	}
	const base = 0xffff800080000000
	lookup := func(addr uint64) (string, bool) { return "", false }
	insns, err := Disassemble(code, base, "arm64", lookup)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, in := range insns {
		texts = append(texts, in.Text)
	}
	got := strings.Join(texts, "; ")
	for _, want := range []string{"stp x29, x30, [sp,#-16]!", "mov x29, sp", "<0x10>", "ret"} {
		if !strings.Contains(got, want) {
			t.Errorf("arm64 listing %q lacks %q", got, want)
		}
	}
	if _, err := Disassemble(code, base, "mips", nil); err == nil {
		t.Error("mips accepted")
	}
}

func TestSplitInsn(t *testing.T) {
	op, args := splitInsn("mov 0x70(%rbx,%rax,8),%edi")
	if op != "mov" || len(args) != 2 || args[0] != "0x70(%rbx,%rax,8)" || args[1] != "%edi" {
		t.Errorf("got %q %q", op, args)
	}
	op, args = splitInsn("lock add %rdi,(%rax)")
	if op != "lock add" || len(args) != 2 {
		t.Errorf("got %q %q", op, args)
	}
	if op, args = splitInsn("ret"); op != "ret" || len(args) != 0 {
		t.Errorf("got %q %q", op, args)
	}
}

// FuzzFormat feeds arbitrary bytes through the decoder and the printer: bad
// input must give an error or text, never a panic.
func FuzzFormat(f *testing.F) {
	f.Add([]byte{0xbf, 0x16, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x18, 0x21, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0})
	f.Add([]byte{0xdb, 0x10, 0xf8, 0xff, 0x00, 0x01, 0, 0, 0x85, 0x10, 1, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		raws, err := Decode(b)
		if err != nil {
			return
		}
		ks := KernelSymbolizer{JitedKsyms: []uint64{1, 2}}
		for _, r := range raws {
			if Format(r, ks) == "" || Format(r, nil) == "" {
				t.Fatalf("empty text for %+v", r)
			}
		}
		var lines []Line
		for i, r := range raws {
			lines = append(lines, Line{Offset: i, Raw: r, Text: Format(r, nil)})
		}
		var sb strings.Builder
		if err := FprintDOT(&sb, lines, PrintOptions{Opcodes: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := Disassemble(b, 0x1000, "amd64", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := Disassemble(b, 0x1000, "arm64", nil); err != nil {
			t.Fatal(err)
		}
	})
}
