package asm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/arch/arm64/arm64asm"
	"golang.org/x/arch/x86/x86asm"
)

// JitedInsn is one machine instruction of a JIT image.
type JitedInsn struct {
	Off    uint64 // offset from the start of its function
	Bytes  []byte
	Text   string  // GNU (AT&T on x86) syntax, "push %rbp"
	Bad    bool    // the bytes did not decode
	Source *Source // line-info record whose code starts here
}

// JitedFunc is one JITed function (the program or a subprogram).
type JitedFunc struct {
	Proto string // BTF header, "int f(struct __sk_buff * skb)"
	Name  string // kernel symbol, bpf_prog_<tag>_<name>
	Addr  uint64
	Insns []JitedInsn
}

// Size returns the function's size in bytes.
func (f *JitedFunc) Size() int {
	n := 0
	for _, in := range f.Insns {
		n += len(in.Bytes)
	}
	return n
}

// AddrLookup returns the symbol at exactly addr; *objects.Kallsyms.Lookup
// fits.
type AddrLookup func(addr uint64) (string, bool)

var errNoJIT = errors.New("no instructions returned or kernel.kptr_restrict set?")

// Jited disassembles the JIT image of a loaded program, one block per
// function, in pure Go. arch is a GOARCH ("amd64" or "arm64"; "" means the
// running one). lookup names call targets and functions and may be nil.
func Jited(info *ebpf.ProgramInfo, arch string, lookup AddrLookup) ([]JitedFunc, error) {
	img, ok := info.JitedInsns()
	if !ok || len(img) == 0 {
		return nil, errNoJIT
	}
	lens, _ := info.JitedFuncLens()
	addrs, _ := info.JitedKsymAddrs()
	if len(lens) == 0 {
		lens = []uint32{uint32(len(img))}
	}
	funcs := make([]JitedFunc, len(lens))
	var protos []string
	if fis, err := info.FuncInfos(); err == nil {
		for _, fi := range fis {
			protos = append(protos, FuncProto(fi.Func))
		}
	}
	// Line info records pair with JITed addresses one to one.
	type srcAt struct {
		addr uint64
		src  *Source
	}
	var srcs []srcAt
	if jl, ok := info.JitedLineInfos(); ok {
		if lis, err := info.LineInfos(); err == nil && len(lis) == len(jl) {
			for i, li := range lis {
				srcs = append(srcs, srcAt{jl[i], sourceOf(li.Line)})
			}
		}
	}
	pos := 0
	for i, n := range lens {
		if pos+int(n) > len(img) {
			return nil, fmt.Errorf("JITed function %d overruns the image (%d+%d > %d bytes)", i, pos, n, len(img))
		}
		f := &funcs[i]
		if i < len(addrs) {
			f.Addr = uint64(addrs[i])
		}
		if i < len(protos) {
			f.Proto = protos[i]
		}
		f.Name = fmt.Sprintf("0x%x", f.Addr)
		if lookup != nil {
			if name, ok := lookup(f.Addr); ok {
				f.Name = name
			}
		}
		insns, err := Disassemble(img[pos:pos+int(n)], f.Addr, arch, lookup)
		if err != nil {
			return nil, err
		}
		for j := range insns {
			for _, s := range srcs {
				if s.addr == f.Addr+insns[j].Off {
					insns[j].Source = s.src
				}
			}
		}
		f.Insns = insns
		pos += int(n)
	}
	return funcs, nil
}

// endbr64 and endbr32 are the CET landing pads x/arch cannot decode.
var (
	endbr64 = []byte{0xf3, 0x0f, 0x1e, 0xfa}
	endbr32 = []byte{0xf3, 0x0f, 0x1e, 0xfb}
)

// Disassemble decodes machine code that starts at kernel address base.
// Jump targets inside the code print as offsets from its start, calls as
// kernel symbols. Undecodable bytes come out one at a time as "(bad)".
func Disassemble(code []byte, base uint64, arch string, lookup AddrLookup) ([]JitedInsn, error) {
	if arch == "" {
		arch = runtime.GOARCH
	}
	end := base + uint64(len(code))
	symname := func(addr uint64) (string, uint64) {
		if addr >= base && addr <= end && base != 0 {
			return fmt.Sprintf("0x%x", addr-base), addr
		}
		if lookup != nil {
			if name, ok := lookup(addr); ok {
				return name, addr
			}
		}
		return "", 0
	}
	var out []JitedInsn
	switch arch {
	case "amd64":
		for off := 0; off < len(code); {
			rest := code[off:]
			in := JitedInsn{Off: uint64(off)}
			switch {
			case bytes.HasPrefix(rest, endbr64):
				in.Bytes, in.Text = rest[:4], "endbr64"
			case bytes.HasPrefix(rest, endbr32):
				in.Bytes, in.Text = rest[:4], "endbr32"
			default:
				inst, err := x86asm.Decode(rest, 64)
				if err != nil || inst.Len == 0 {
					in.Bytes, in.Text, in.Bad = rest[:1], "(bad)", true
					break
				}
				pc := base + uint64(off)
				if base == 0 {
					pc = 0
				}
				in.Bytes, in.Text = rest[:inst.Len], x86asm.GNUSyntax(inst, pc, symname)
			}
			out = append(out, in)
			off += len(in.Bytes)
		}
	case "arm64":
		for off := 0; off < len(code); off += 4 {
			in := JitedInsn{Off: uint64(off)}
			if off+4 > len(code) {
				in.Bytes, in.Text, in.Bad = code[off:], "(bad)", true
				out = append(out, in)
				break
			}
			in.Bytes = code[off : off+4]
			inst, err := arm64asm.Decode(in.Bytes)
			if err != nil {
				in.Text, in.Bad = fmt.Sprintf(".inst 0x%08x", uint32(in.Bytes[0])|uint32(in.Bytes[1])<<8|uint32(in.Bytes[2])<<16|uint32(in.Bytes[3])<<24), true
				out = append(out, in)
				continue
			}
			in.Text = arm64asm.GNUSyntax(inst)
			for _, a := range inst.Args {
				if rel, ok := a.(arm64asm.PCRel); ok {
					if name, _ := symname(base + uint64(off) + uint64(int64(rel))); name != "" {
						in.Text += " <" + name + ">"
					}
				}
			}
			out = append(out, in)
		}
	default:
		return nil, fmt.Errorf("disassemble: no disassembler for %s", arch)
	}
	return out, nil
}

// FprintJited writes JITed functions as bpftool does with a disassembler:
// the BTF header, the symbol, then "%4x:\t<insn>" lines, with "; source"
// lines (and file:line with linum) and opcodes when asked for, and a blank
// line after each function.
func FprintJited(w io.Writer, funcs []JitedFunc, opts PrintOptions) error {
	bw := bufio.NewWriter(w)
	for i := range funcs {
		f := &funcs[i]
		if f.Proto != "" {
			fmt.Fprintf(bw, "%s:\n", f.Proto)
		}
		fmt.Fprintf(bw, "%s:\n", f.Name)
		for _, in := range f.Insns {
			if in.Source != nil {
				bw.WriteString(SourceComment(in.Source, opts.Linum))
				bw.WriteByte('\n')
			}
			fmt.Fprintf(bw, "%4x:\t%s\n", in.Off, in.Text)
			if opts.Opcodes {
				fmt.Fprintf(bw, "\t%s\n", HexBytes(in.Bytes))
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// JSONJitedFunc is one element of bpftool's "prog dump jited -j" array.
type JSONJitedFunc struct {
	Proto string          `json:"proto,omitempty"`
	Name  string          `json:"name"`
	Insns []JSONJitedInsn `json:"insns"`
}

// JSONJitedInsn is one machine instruction in JSON.
type JSONJitedInsn struct {
	Src       *string  `json:"src,omitempty"`
	File      *string  `json:"file,omitempty"`
	LineNum   uint32   `json:"line_num,omitempty"`
	LineCol   uint32   `json:"line_col,omitempty"`
	PC        string   `json:"pc"`
	Operation string   `json:"operation"`
	Operands  []string `json:"operands"`
	Opcodes   []string `json:"opcodes,omitempty"`
}

// JitedJSON converts JITed functions to bpftool's JSON shape.
func JitedJSON(funcs []JitedFunc, opts PrintOptions) []JSONJitedFunc {
	out := make([]JSONJitedFunc, 0, len(funcs))
	for i := range funcs {
		f := &funcs[i]
		jf := JSONJitedFunc{Proto: f.Proto, Name: f.Name, Insns: []JSONJitedInsn{}}
		for _, in := range f.Insns {
			op, args := splitInsn(in.Text)
			ji := JSONJitedInsn{PC: fmt.Sprintf("0x%x", in.Off), Operation: op, Operands: args}
			if s := in.Source; s != nil {
				text := s.Text
				ji.Src = &text
				if opts.Linum && s.HasFile {
					file := s.File
					ji.File = &file
					ji.LineNum, ji.LineCol = s.Line, s.Col
				}
			}
			if opts.Opcodes {
				ji.Opcodes = hexStrings(in.Bytes)
			}
			jf.Insns = append(jf.Insns, ji)
		}
		out = append(out, jf)
	}
	return out
}

// splitInsn splits "mov %rsp,%rbp" into its mnemonic and operands, keeping
// commas inside parentheses and brackets.
func splitInsn(text string) (string, []string) {
	op, rest, _ := strings.Cut(text, " ")
	// Prefixes such as "lock" or "rep" belong to the operation.
	for _, p := range []string{"lock", "rep", "repn", "data16"} {
		if op == p && rest != "" {
			var next string
			next, rest, _ = strings.Cut(rest, " ")
			op += " " + next
		}
	}
	args := []string{}
	depth, start := 0, 0
	rest = strings.TrimSpace(rest)
	for i, c := range rest {
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(rest[start:i]))
				start = i + 1
			}
		}
	}
	if s := strings.TrimSpace(rest[start:]); s != "" {
		args = append(args, s)
	}
	return op, args
}
