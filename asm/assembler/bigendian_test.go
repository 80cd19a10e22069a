package assembler

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// TestBigEndianEncoding: big-endian BPF puts dst in the high nibble of the
// register byte and the offset and immediate big-endian, as clang -target
// bpfeb writes them.
func TestBigEndianEncoding(t *testing.T) {
	for _, c := range []struct {
		text   string
		le, be string
	}{
		{"r6 = r1", "bf 16 00 00 00 00 00 00", "bf 61 00 00 00 00 00 00"},
		{"*(u32 *)(r10 -8) = r2", "63 2a f8 ff 00 00 00 00", "63 a2 ff f8 00 00 00 00"},
		{"if w1 > 0x40 goto pc+1", "26 01 01 00 40 00 00 00", "26 10 00 01 00 00 00 40"},
		{"r1 = 0x1122334455667788", "18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11", "18 10 00 00 55 66 77 88 00 00 00 00 11 22 33 44"},
	} {
		p, err := asm.ParseInstruction(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		if got := asm.HexBytes(p.Raw.BytesOrder(binary.LittleEndian)); got != c.le {
			t.Errorf("%s: little-endian %s, want %s", c.text, got, c.le)
		}
		be := p.Raw.BytesOrder(binary.BigEndian)
		if got := asm.HexBytes(be); got != c.be {
			t.Errorf("%s: big-endian %s, want %s", c.text, got, c.be)
		}
		back, err := asm.DecodeOrder(be, binary.BigEndian)
		if err != nil || len(back) != 1 || back[0] != p.Raw {
			t.Errorf("%s: big-endian decode gives %+v (%v), want %+v", c.text, back, err, p.Raw)
		}
	}
}

// objdumpInsns is llvm-objdump -d -r of obj without the file name line
// and the labels of local jump targets (clang's LBB symbols, which the
// assembler does not write), with the blank lines before them.
func objdumpInsns(t *testing.T, tool, obj string) (string, string) {
	out, err := exec.Command(tool, "-d", "-r", obj).CombinedOutput()
	if err != nil {
		t.Fatalf("llvm-objdump %s: %v\n%s", obj, err, out)
	}
	lines := strings.Split(string(out), "\n")
	var keep []string
	lbb := regexp.MustCompile(`^[0-9a-f]+ <LBB[0-9_]+>:$| <[^>]*>$`)
	for _, l := range lines[2:] {
		if l == "" || strings.HasPrefix(l, "0") && strings.Contains(l, "<LBB") {
			continue
		}
		keep = append(keep, lbb.ReplaceAllString(l, ""))
	}
	return strings.Join(keep, "\n"), string(out)
}

// TestBigEndianObjects: a big-endian object dumps with .endian big and
// builds back into a big-endian object that readelf and llvm-objdump read
// without warnings and disassemble to the same instructions and
// relocations as the original.
func TestBigEndianObjects(t *testing.T) {
	readelf := testutil.RequireTool(t, "readelf")
	objdump := testutil.RequireTool(t, "llvm-objdump")
	n, insns := 0, 0
	for _, path := range bigEndianObjects(t) {
		name := filepath.Base(path)
		f, err := elfobj.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.LittleEndian() {
			t.Fatalf("%s is not big-endian", name)
		}
		text, _, err := Dump(f, DumpOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Contains(text, []byte("\n.endian big\n")) {
			t.Errorf("%s: the dump does not say .endian big", name)
		}
		obj, err := Assemble(name+".s", text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if obj[5] != 2 {
			t.Errorf("%s: EI_DATA %d, want 2 (ELFDATA2MSB)", name, obj[5])
		}
		built := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(built, obj, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(readelf, "-S", "-r", "-W", built).CombinedOutput()
		if err != nil || strings.Contains(strings.ToLower(string(out)), "warning") || !strings.Contains(string(out), "Section Headers:") {
			t.Errorf("%s: readelf on the rebuilt object: %v\n%s", name, err, out)
		}
		want, _ := objdumpInsns(t, objdump, path)
		got, raw := objdumpInsns(t, objdump, built)
		if strings.Contains(strings.ToLower(raw), "warning") || !strings.Contains(raw, "elf64-bpf") {
			t.Errorf("%s: llvm-objdump on the rebuilt object:\n%s", name, raw)
		}
		insns += strings.Count(want, "\t")
		if got != want {
			t.Errorf("%s: llvm-objdump -d -r differs:\n%s", name, testutil.FirstDiff([]byte(got), []byte(want)))
		}
		n++
	}
	t.Logf("%d big-endian objects: dumped, built, read by readelf and llvm-objdump with the same %d instructions", n, insns)
	if insns < 1000 {
		t.Errorf("llvm-objdump shows only %d instructions of the originals", insns)
	}
}
