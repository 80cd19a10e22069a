package assembler

import (
	"github.com/cilium/ebpf"

	"errors"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

const good = `.license "GPL"
.section tc
.func prog global
	r1 = map[counter]
	r0 = 0
	if r0 == 0x0 goto out
	call bpf_ktime_get_ns
out:
	exit
.section .data
.var counter global
	.bytes 01 00 00 00 00 00 00 00
`

// errorCase is a mistake made by replacing from with to in a correct
// file, and where and what the assembler must say.
type errorCase struct {
	kind, from, to string
	line, col      int
	msg            string
}

// checkErrors builds each mistake of cases, made in the correct file
// base, and checks the error's file, line, column and message.
func checkErrors(t *testing.T, base string, cases []errorCase) {
	t.Helper()
	if _, err := Assemble("good.s", []byte(base)); err != nil {
		t.Fatalf("the correct file fails: %v", err)
	}
	for _, c := range cases {
		src := strings.Replace(base, c.from, c.to, 1)
		if src == base {
			t.Fatalf("%s: %q is not in the file", c.kind, c.from)
		}
		_, err := Assemble("prog.s", []byte(src))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want an assembly error", c.kind, err)
			continue
		}
		if e.File != "prog.s" || e.Line != c.line || e.Col != c.col || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s: got %v, want prog.s:%d:%d: ...%s...", c.kind, err, c.line, c.col, c.msg)
		}
	}
}

// TestAssembleErrors: one test per kind of mistake, each naming the file,
// line and column and what was expected.
func TestAssembleErrors(t *testing.T) {
	checkErrors(t, good, []errorCase{
		{"bad register", "r0 = 0", "r0 = r11", 5, 7, "expected a register"},
		{"unknown helper", "call bpf_ktime_get_ns", "call bpf_ktime_get_nanos", 7, 7, "unknown helper, function or label bpf_ktime_get_nanos"},
		{"undefined label", "goto out", "goto done", 6, 20, "undefined label done"},
		{"undefined map", "map[counter]", "map[countr]", 4, 11, "undefined map, variable or section countr"},
		{"immediate out of range", "r0 = 0", "r0 = 4294967296", 5, 7, "does not fit in 32 bits"},
		{"offset out of range", "r0 = 0", "r0 = *(u32 *)(r1 +32768)", 5, 19, "does not fit in 16 bits"},
		{"bad directive", ".section .data", ".sektion .data", 10, 1, "unknown directive .sektion"},
		{"directive argument", ".var counter global", ".var counter globl", 11, 14, "expected global, weak, local, hidden or size=N"},
		{"bad data", "01 00 00", "01 0x0 00", 12, 12, "expected a byte in hex"},
		{"duplicate symbol", ".var counter global", ".var prog global", 11, 6, "symbol prog is already defined (line 3)"},
		{"data in code", "r0 = 0", ".bytes 00", 5, 2, "data in code section tc"},
		{"instruction outside a section", ".license \"GPL\"", "r0 = 0", 1, 1, "instructions go after .section"},
		{"bad byte order", ".license \"GPL\"", ".endian middle", 1, 9, "expected .endian big or .endian little"},
		{"late byte order", ".section .data", ".endian big\n.section .data", 10, 1, ".endian goes before the first .section"},
	})
}

// TestAssembleGood checks what the small file builds: a jump by label,
// a relocation against the variable, and a license.
func TestAssembleGood(t *testing.T) {
	obj, err := Assemble("good.s", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	f, err := elfobj.Read(obj)
	if err != nil {
		t.Fatal(err)
	}
	if f.License != "GPL" {
		t.Errorf("license %q", f.License)
	}
	code := codeSections(f)["tc"]
	want := []byte{
		0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xb7, 0, 0, 0, 0, 0, 0, 0,
		0x15, 0, 1, 0, 0, 0, 0, 0,
		0x85, 0, 0, 0, 5, 0, 0, 0,
		0x95, 0, 0, 0, 0, 0, 0, 0,
	}
	if d := testutil.FirstDiff(code, want); d != "" {
		t.Errorf("code: %s", d)
	}
	if rs := relocSet(f); len(rs) != 1 || rs[0] != "tc 0x0 R_BPF_64_64 counter" {
		t.Errorf("relocations %q", rs)
	}
}

func FuzzAssemble(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(".section s\n\tr1 = map[x]+8\n.btf\n[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n.end\n"))
	f.Add([]byte(".extern k\n.section t\n.func f global\n\t.core field_byte_offset [1] \"0:1\"\n; x [file:a.c line_num:3 line_col:2]\n\tcall k\n\texit\n"))
	f.Add([]byte(".endian big\n.map i template type=hash key=8 value=4 max_entries=2\n.map a type=array key=4 value=8 max_entries=1\n.map o type=array_of_maps key=4 max_entries=2 inner=a values=,a\n.map h type=hash_of_maps key=4 max_entries=2 inner=i\n.section s\n\tr1 = map[o]\n\t.insn 95 00 00 00 00 00 00 00\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		obj, err := Assemble("f.s", src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 || e.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		if _, err := elfobj.Read(obj); err != nil && !strings.Contains(err.Error(), "BTF") {
			t.Fatalf("built object does not read: %v", err)
		}
	})
}

// TestDemoSource builds the demo's assembly file: the program has the
// demo's instructions, the map is the demo's perf event array, and the
// explanations are line info.
func TestDemoSource(t *testing.T) {
	src, err := DemoSource()
	if err != nil {
		t.Fatal(err)
	}
	obj, err := Assemble("demo.s", src)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	f, err := elfobj.Read(obj)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := f.CollectionSpec()
	if err != nil {
		t.Fatal(err)
	}
	p := spec.Programs[asm.DemoProgName]
	if p == nil || p.SectionName != DemoSection || p.License != "GPL" {
		t.Fatalf("program: %+v", p)
	}
	want := asm.DemoInstructions()
	if len(p.Instructions) != len(want) {
		t.Fatalf("%d instructions, want %d", len(p.Instructions), len(want))
	}
	lines := 0
	for i := range want {
		g, err1 := asm.Encode(p.Instructions[i])
		w, err2 := asm.Encode(want[i])
		if err1 != nil || err2 != nil || g != w {
			t.Errorf("instruction %d: %+v, want %+v", i, g, w)
		}
		if src := p.Instructions[i].Source(); src != nil {
			if ws := want[i].Source(); ws == nil || !strings.Contains(src.String(), ws.String()) {
				t.Errorf("instruction %d: source %q, want %v", i, src, ws)
			}
			lines++
		}
	}
	if lines != 8 {
		t.Errorf("%d source lines, want 8", lines)
	}
	m := spec.Maps[asm.DemoMapName]
	if m == nil || m.Type != ebpf.PerfEventArray {
		t.Errorf("map: %+v", m)
	}
}
