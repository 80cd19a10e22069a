package asm_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// TestJited disassembles the JIT image of every corpus program: every byte
// decodes, function sizes add up to the image size, and calls name kernel
// symbols.
func TestJited(t *testing.T) {
	testutil.RequirePrivileged(t)
	progs := loadCorpus(t)
	ks, err := objects.LoadKallsyms()
	if err != nil {
		t.Fatal(err)
	}
	rawCall := regexp.MustCompile(`^callq? 0x[0-9a-f]+$`)
	for name, p := range progs {
		t.Run(name, func(t *testing.T) {
			info, err := p.Info()
			if err != nil {
				t.Fatal(err)
			}
			funcs, err := bpfasm.Jited(info, "", ks.Lookup)
			if err != nil {
				t.Fatal(err)
			}
			size, _ := info.JitedSize()
			total, calls := 0, 0
			for _, f := range funcs {
				if !strings.HasPrefix(f.Name, "bpf_prog_") {
					t.Errorf("function at %#x named %q, want a bpf_prog_ symbol", f.Addr, f.Name)
				}
				total += f.Size()
				for _, in := range f.Insns {
					if in.Bad {
						t.Errorf("%s+%#x: undecodable bytes % x", f.Name, in.Off, in.Bytes)
					}
					if strings.HasPrefix(in.Text, "call") {
						calls++
						if rawCall.MatchString(in.Text) {
							t.Errorf("%s+%#x: call target not symbolised: %s", f.Name, in.Off, in.Text)
						}
					}
				}
			}
			if uint32(total) != size {
				t.Errorf("functions add up to %d bytes, bytes_jited is %d", total, size)
			}
			lines, err := bpfasm.Xlated(info, ks)
			if err != nil {
				t.Fatal(err)
			}
			kernelCalls := 0
			for _, l := range lines {
				if strings.HasPrefix(l.Text, "(85) call ") && !strings.Contains(l.Text, "call pc") && !strings.Contains(l.Text, "bpf_tail_call") {
					kernelCalls++
				}
			}
			if kernelCalls > 0 && calls == 0 {
				t.Errorf("xlated code calls the kernel %d times, JITed code shows no call", kernelCalls)
			}
			var buf bytes.Buffer
			if err := bpfasm.FprintJited(&buf, funcs, bpfasm.PrintOptions{Linum: true}); err != nil {
				t.Fatal(err)
			}
			if os.Getenv("BPFKIT_SHOW") != "" {
				t.Logf("\n%s", buf.String())
			}
		})
	}
}
