package asm_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// testObjects are the committed objects: this package's and the shared ones.
func testObjects(t *testing.T) []string {
	t.Helper()
	own, _ := filepath.Glob("testdata/*.bpf.o")
	return append(own, testutil.Objects(t, "*")...)
}

// elfText renders every program of an object with source lines, file:line
// and opcodes, as `elf dump FILE linum opcodes` prints it.
func elfText(t *testing.T, path string) ([]byte, map[string]int) {
	t.Helper()
	f, err := elfobj.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := f.CollectionSpec()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	// Slots per section, counting each function once.
	perSection := make(map[string]int)
	seen := make(map[string]bool)
	for _, name := range f.ProgramOrder() {
		p := spec.Programs[name]
		lines, err := bpfasm.ELFListing(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&buf, "program %s section %s\n", p.Name, p.SectionName)
		if err := bpfasm.Fprint(&buf, lines, bpfasm.PrintOptions{Linum: true, Opcodes: true}); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("\n")
		sec, fn := p.SectionName, ""
		for i, ins := range p.Instructions {
			if sym := ins.Symbol(); sym != "" {
				fn = sym
				if i > 0 {
					sec = ".text" // subprograms linked in from .text
				}
			}
			if !seen[fn] || (i == 0) {
				perSection[sec]++
			}
			if i+1 == len(p.Instructions) || p.Instructions[i+1].Symbol() != "" {
				seen[fn] = true
			}
		}
	}
	return buf.Bytes(), perSection
}

// TestELFGolden keeps the disassembly of every committed object in a golden
// file.
func TestELFGolden(t *testing.T) {
	for _, obj := range testObjects(t) {
		got, _ := elfText(t, obj)
		testutil.Golden(t, filepath.Base(obj)+".golden", got)
	}
}

// TestELFCountsMatchObjdump checks that each section holds as many
// instructions as llvm-objdump finds there.
func TestELFCountsMatchObjdump(t *testing.T) {
	testutil.RequireTool(t, "llvm-objdump")
	insnLine := regexp.MustCompile(`^\s*\d+:\t`)
	section := regexp.MustCompile(`^Disassembly of section (.*):$`)
	for _, obj := range testObjects(t) {
		out := testutil.ToolOutput(t, "llvm-objdump", "-d", obj)
		want := make(map[string]int)
		var sec string
		for _, l := range strings.Split(string(out), "\n") {
			if m := section.FindStringSubmatch(l); m != nil {
				sec = m[1]
			} else if insnLine.MatchString(l) {
				want[sec]++
			}
		}
		_, got := elfText(t, obj)
		for s, n := range want {
			if got[s] != n {
				t.Errorf("%s: section %s: %d instructions, llvm-objdump counts %d", obj, s, got[s], n)
			}
		}
	}
}
