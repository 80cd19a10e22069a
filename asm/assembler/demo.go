package assembler

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/bpfkit/bpfkit/asm"
)

// DemoSection is where the demo's program goes in its assembly file: the
// tracepoint the demo attaches to, named as libbpf and bpfkit run expect.
const DemoSection = "tracepoint/syscalls/sys_enter_openat"

// DemoSource returns the teaching demo (asm.DemoInstructions) as an
// assembly file: a map directive, the program, and each instruction's
// explanation as a ";" line, which the assembler turns into line info.
// Built and run, it sends the same records as the demo.
func DemoSource() ([]byte, error) {
	lines, err := asm.Listing(asm.DemoInstructions(), asm.Options{Labels: true})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `// The bpfkit demo as an assembly file (bpfkit asm demo source).
// On every openat it sends %d to the perf event array %s.
// Build and run it:  bpfkit asm build demo.s demo.o && bpfkit run demo.o
// or directly:       bpfkit run demo.s
// "//" starts a comment; a line starting with ";" is the source line of
// the next instruction (bpftool prog dump xlated shows it).

.license "GPL"                                // bpf_perf_event_output is GPL-only
.map %s type=perf_event_array key=4 value=4   // CPU number -> perf ring

.section %s
.func %s global
`, asm.DemoValue, asm.DemoMapName, asm.DemoMapName, DemoSection, asm.DemoProgName)
	for _, l := range lines {
		if l.Source != nil {
			fmt.Fprintf(&b, "; %s\n", l.Source.Text)
		}
		text := l.Text
		if i := strings.IndexByte(text, ')'); strings.HasPrefix(text, "(") && i > 0 {
			text = strings.TrimSpace(text[i+1:])
		}
		fmt.Fprintf(&b, "\t%s\n", text)
	}
	return b.Bytes(), nil
}
