package asm

import (
	"fmt"
	"strings"

	ebpfasm "github.com/cilium/ebpf/asm"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// Source is one line-info record: the source line an instruction starts.
type Source struct {
	Text    string // the source line, left-trimmed
	File    string
	Line    uint32
	Col     uint32
	HasFile bool // a BTF line record (file, line and column are meaningful)
}

// Line is one instruction of a listing with what is printed around it.
type Line struct {
	Offset int     // index in 8-byte slots; ldimm64 takes two
	Proto  string  // BTF function header starting here ("int f(int x)")
	Label  string  // symbol starting here when there is no BTF header
	Source *Source // line-info record starting here
	Raw    Raw
	Text   string // the instruction, "(bf) r6 = r1"
}

// Options controls how a listing is built.
type Options struct {
	// Symbolizer names calls and immediates of instructions that carry no
	// reference. Nil prints map references as bpftool does and leaves calls
	// to the kernel grammar's fallbacks. Use a KernelSymbolizer for code
	// read back from the kernel.
	Symbolizer Symbolizer
	// Labels prints an instruction's symbol ("name:") where no BTF function
	// header is available; useful for ELF code and hand-written programs.
	Labels bool
}

// Listing turns instructions into listing lines. Function headers come from
// BTF func metadata, source lines from line info (or asm.Comment sources),
// and references (ELF code) are printed by name.
func Listing(insns ebpfasm.Instructions, opts Options) ([]Line, error) {
	// Symbol offsets, to resolve bpf-to-bpf calls by name.
	symOff := make(map[string]int)
	off := 0
	for _, ins := range insns {
		if sym := ins.Symbol(); sym != "" {
			symOff[sym] = off
		}
		off += int(ins.Width())
	}

	lines := make([]Line, 0, len(insns))
	off = 0
	for i := range insns {
		ins := &insns[i]
		raw, err := Encode(*ins)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %w", off, err)
		}
		l := Line{Offset: off, Raw: raw}
		if fn := ebpfbtf.FuncMetadata(ins); fn != nil {
			l.Proto = FuncProto(fn)
		}
		if opts.Labels && l.Proto == "" {
			l.Label = ins.Symbol()
		}
		if src := ins.Source(); src != nil {
			l.Source = sourceOf(src)
		}
		sym := opts.Symbolizer
		if ref := ins.Reference(); ref != "" {
			rs := refSymbolizer{ref: ref, next: opts.Symbolizer}
			if tgt, ok := symOff[ref]; ok && ins.IsFunctionCall() {
				rs.callOff, rs.resolved = tgt-off-1, true
			}
			sym = rs
		} else if m := ins.Map(); m != nil && ins.IsLoadFromMap() {
			if s, ok := m.(fmt.Stringer); ok {
				sym = refSymbolizer{ref: s.String(), next: opts.Symbolizer}
			}
		}
		l.Text = Format(raw, sym)
		if ref := ins.Reference(); ref != "" && ins.IsKfuncCall() {
			// A kfunc of unloaded code has no id yet: name it alone.
			l.Text = fmt.Sprintf("(%02x) call %s", raw.Code, ref)
		}
		lines = append(lines, l)
		off += raw.Slots()
	}
	return lines, nil
}

func sourceOf(src fmt.Stringer) *Source {
	if bl, ok := src.(*ebpfbtf.Line); ok {
		return &Source{
			Text:    ltrim(bl.Line()),
			File:    bl.FileName(),
			Line:    bl.LineNumber(),
			Col:     bl.LineColumn(),
			HasFile: true,
		}
	}
	return &Source{Text: ltrim(src.String())}
}

func ltrim(s string) string { return strings.TrimLeft(s, " \t\n\v\f\r") }
