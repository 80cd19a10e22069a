package assembler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"

	"github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/testprogs"
	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// allInsnsSource writes testprogs.AllInstructions, the program with every
// instruction class the kernel accepts (ISA v4, atomics, ldimm64 forms,
// packet loads, callbacks, a tail call), as an assembly file: labels for
// its jumps, its maps by name, its subprograms in .text. The one map value
// load (map[array]+4 of an array, which ELF objects cannot express)
// becomes a stack address.
func allInsnsSource(t *testing.T, insns ebpfasm.Instructions, array, progs *ebpf.Map) (string, map[uint8]bool) {
	var b strings.Builder
	b.WriteString(".license \"GPL\"\n.map array type=array key=4 value=16 max_entries=1\n.map progs type=prog_array key=4 value=4 max_entries=1\n.section socket\n")
	codes := map[uint8]bool{}
	inText := false
	for i := range insns {
		ins := insns[i]
		raw, err := asm.Encode(ins)
		if err != nil {
			t.Fatal(err)
		}
		if raw.Wide && raw.Src == 2 {
			// the map value load: point r2 at the stack for the load after it
			fmt.Fprintf(&b, "\tr%d = r10\n\tr%d += -8\n", raw.Dst, raw.Dst)
			continue
		}
		if sym := ins.Symbol(); sym != "" {
			switch sym {
			case "all_insns":
				b.WriteString(".func all_insns global\n")
			case "triple", "loop_cb":
				if !inText {
					b.WriteString(".section .text\n")
					inText = true
				}
				fmt.Fprintf(&b, ".func %s\n", sym)
			default:
				fmt.Fprintf(&b, "%s:\n", sym)
			}
		}
		text := strings.TrimSpace(asm.Format(raw, nil)[5:])
		ref := ins.Reference()
		switch {
		case raw.Wide && raw.Src == 1 && raw.Imm == int32(array.FD()):
			text = fmt.Sprintf("r%d = map[array]", raw.Dst)
		case raw.Wide && raw.Src == 1 && raw.Imm == int32(progs.FD()):
			text = fmt.Sprintf("r%d = map[progs]", raw.Dst)
		case raw.Wide && ref != "":
			text = fmt.Sprintf("r%d = func[%s]", raw.Dst, ref)
		case ins.IsFunctionCall() && ref != "":
			text = "call " + ref
		case ref != "":
			text = text[:strings.LastIndex(text, "pc")] + ref
		}
		codes[raw.Code] = true
		fmt.Fprintf(&b, "\t%s\n", text)
	}
	return b.String(), codes
}

// TestAllInstructions assembles every instruction class, checks that the
// object has each opcode, dumps back to the same text, and that the kernel
// loads it.
func TestAllInstructions(t *testing.T) {
	testutil.RequirePrivileged(t)
	array := testutil.NewMap(t, &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1})
	progs := testutil.NewMap(t, &ebpf.MapSpec{Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	src, codes := allInsnsSource(t, testprogs.AllInstructions(array, progs), array, progs)
	obj, err := Assemble("allinsns.s", []byte(src))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	f, err := elfobj.Read(obj)
	if err != nil {
		t.Fatal(err)
	}
	raws, err := asm.Decode(append(codeSections(f)["socket"], codeSections(f)[".text"]...))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range raws {
		delete(codes, r.Code)
	}
	if len(codes) > 0 {
		t.Errorf("opcodes missing from the built object: %v", codes)
	}
	text, fb, err := Dump(f, DumpOptions{})
	if err != nil || fb != 0 {
		t.Fatalf("dump: %v, %d .insn", err, fb)
	}
	again, err := Assemble("again.s", text)
	if err != nil {
		t.Fatal(err)
	}
	g, err := elfobj.Read(again)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []string{"socket", ".text"} {
		if d := testutil.FirstDiff(codeSections(g)[sec], codeSections(f)[sec]); d != "" {
			t.Errorf("%s: instructions differ after dump and build: %s", sec, d)
		}
	}
	// ISA v4's instructions (Linux 6.6) are in it: an older kernel
	// refuses them ("unknown opcode d7").
	if !testutil.Has(t, "isa_v4") {
		return
	}
	spec, err := f.CollectionSpec()
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Fatalf("the kernel refuses the assembled program: %v", err)
	}
	coll.Close()
	t.Logf("%d instructions assembled, dumped, rebuilt and loaded", len(raws))
}
