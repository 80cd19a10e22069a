package asm

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// PrintOptions selects bpftool's optional dump decorations.
type PrintOptions struct {
	Opcodes bool // raw instruction bytes under each instruction
	Linum   bool // file, line and column after each source line
}

// Fprint writes a listing in bpftool's plain "prog dump xlated" format:
// function headers, "; source" lines and "%4d: (code) text" instructions.
func Fprint(w io.Writer, lines []Line, opts PrintOptions) error {
	bw := bufio.NewWriter(w)
	for i := range lines {
		l := &lines[i]
		if l.Label != "" {
			fmt.Fprintf(bw, "%s:\n", l.Label)
		}
		if l.Proto != "" {
			fmt.Fprintf(bw, "%s:\n", l.Proto)
		}
		if l.Source != nil {
			bw.WriteString(SourceComment(l.Source, opts.Linum))
			bw.WriteByte('\n')
		}
		fmt.Fprintf(bw, "%4d: %s\n", l.Offset, l.Text)
		if opts.Opcodes {
			fmt.Fprintf(bw, "       %s\n", HexBytes(l.Raw.Bytes()))
		}
	}
	return bw.Flush()
}

// SourceComment renders a line-info record as bpftool does:
// "; src" or, with linum, "; src [file:F line_num:N line_col:C]".
func SourceComment(s *Source, linum bool) string {
	if linum && s.HasFile {
		return fmt.Sprintf("; %s [file:%s line_num:%d line_col:%d]", s.Text, s.File, s.Line, s.Col)
	}
	return "; " + s.Text
}

// HexBytes prints bytes as bpftool's opcodes lines do: two hex digits each,
// separated by single spaces.
func HexBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// JSONInsn is one element of bpftool's "prog dump xlated -j" array. Field
// order and omission rules follow bpftool.
type JSONInsn struct {
	Proto   string       `json:"proto,omitempty"`
	Src     *string      `json:"src,omitempty"`
	File    *string      `json:"file,omitempty"`
	LineNum uint32       `json:"line_num,omitempty"`
	LineCol uint32       `json:"line_col,omitempty"`
	Disasm  string       `json:"disasm"`
	Opcodes *JSONOpcodes `json:"opcodes,omitempty"`
}

// JSONOpcodes is the "opcodes" object of a JSON instruction: code and
// registers as hex strings, offset and immediate as little-endian bytes (12
// immediate bytes for ldimm64: both immediates and the second slot's header).
type JSONOpcodes struct {
	Code   string   `json:"code"`
	SrcReg string   `json:"src_reg"`
	DstReg string   `json:"dst_reg"`
	Off    []string `json:"off"`
	Imm    []string `json:"imm"`
}

// JSON converts a listing to bpftool's JSON instruction objects.
func JSON(lines []Line, opts PrintOptions) []JSONInsn {
	out := make([]JSONInsn, 0, len(lines))
	for i := range lines {
		l := &lines[i]
		j := JSONInsn{Proto: l.Proto, Disasm: l.Text}
		if s := l.Source; s != nil {
			text := s.Text
			j.Src = &text
			if opts.Linum && s.HasFile {
				file := s.File
				j.File = &file
				j.LineNum, j.LineCol = s.Line, s.Col
			}
		}
		if opts.Opcodes {
			b := l.Raw.Bytes()
			j.Opcodes = &JSONOpcodes{
				Code:   fmt.Sprintf("0x%02x", l.Raw.Code),
				SrcReg: fmt.Sprintf("0x%x", l.Raw.Src),
				DstReg: fmt.Sprintf("0x%x", l.Raw.Dst),
				Off:    hexStrings(b[2:4]),
				Imm:    hexStrings(b[4:min(len(b), 16)]),
			}
		}
		out = append(out, j)
	}
	return out
}

func hexStrings(b []byte) []string {
	s := make([]string, len(b))
	for i, c := range b {
		s[i] = fmt.Sprintf("0x%02x", c)
	}
	return s
}
