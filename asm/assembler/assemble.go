package assembler

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/btf"
)

// Error is a mistake in an assembly file, at FILE:LINE:COL.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

type section struct {
	name   string
	nobits bool
	code   bool
	data   []byte
	insns  []*insn
	labels map[string]int // slot index
	relocs []reloc
	ext    btf.ExtSection
	line   int
}

type insn struct {
	p    asm.Parsed
	slot int
	line int
	col  int // column of the instruction text in its line
	rel  string
	core []btf.CoreRelo
	src  []btf.LineInfo
}

type reloc struct {
	off  uint64
	sym  string
	typ  uint32
	line int
	col  int
}

type symbol struct {
	name    string
	sec     *section // nil: extern
	value   uint64
	size    uint64
	sized   bool
	isFunc  bool
	isSect  bool
	bind    uint8 // 0 local, 1 global, 2 weak
	hidden  bool
	line    int
	defined bool
}

type assembler struct {
	file     string
	sections []*section
	byName   map[string]*section
	syms     map[string]*symbol
	order    []*symbol
	cur      *section
	btfLines []string
	btfLine  int
	hasBTF   bool
	core     []btf.CoreRelo
	src      []btf.LineInfo
	lineNo   int
	maps     []mapDef
	// bo is the object's byte order, little-endian unless .endian big.
	bo       byteOrder
	endianAt int
	// sourced is set by a ; line: the file wants line info, so BTF is
	// made for it when it has no .btf block.
	sourced bool
}

// byteOrder reads and appends: binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func (a *assembler) errorf(line, col int, format string, args ...any) error {
	return &Error{a.file, line, col, fmt.Sprintf(format, args...)}
}

// Assemble builds a BPF ELF object from assembly text in the grammar Dump
// writes (docs/asm.md). file names the text in errors, which say
// FILE:LINE:COL and what was expected.
func Assemble(file string, src []byte) ([]byte, error) {
	a := &assembler{file: file, byName: map[string]*section{}, syms: map[string]*symbol{}, bo: binary.LittleEndian}
	lines := strings.Split(string(src), "\n")
	inBTF := false
	for i, raw := range lines {
		a.lineNo = i + 1
		line := strings.TrimRight(raw, "\r")
		if inBTF {
			if strings.TrimSpace(line) == ".end" {
				inBTF = false
				continue
			}
			a.btfLines = append(a.btfLines, line)
			continue
		}
		if err := a.line(line, &inBTF); err != nil {
			return nil, err
		}
	}
	if inBTF {
		return nil, a.errorf(a.btfLine, 1, "expected .end after the .btf block")
	}
	return a.finish()
}

// stripComment removes a // comment outside quotes.
func stripComment(s string) string {
	inQ := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQ:
			i++
		case s[i] == '"':
			inQ = !inQ
		case !inQ && s[i] == '/' && i+1 < len(s) && s[i+1] == '/':
			return s[:i]
		}
	}
	return s
}

func (a *assembler) line(raw string, inBTF *bool) error {
	n := a.lineNo
	trimmed := strings.TrimLeft(raw, " \t")
	indent := len(raw) - len(trimmed)
	if strings.HasPrefix(trimmed, ";") {
		return a.sourceLine(trimmed, indent)
	}
	text := strings.TrimRight(stripComment(trimmed), " \t")
	if text == "" {
		return nil
	}
	if text[0] == '.' && !strings.HasSuffix(text, ":") {
		return a.directive(text, indent, inBTF)
	}
	if c := strings.IndexByte(text, ':'); c > 0 && c == len(text)-1 && isIdent(text[:c]) {
		return a.label(text[:c], indent+1)
	}
	if a.cur == nil || (!a.cur.code && len(a.cur.data) > 0) {
		return a.errorf(n, indent+1, "expected a directive: instructions go after .section NAME")
	}
	p, err := asm.ParseInstruction(text)
	if err != nil {
		var se *asm.SyntaxError
		if errors.As(err, &se) {
			return a.errorf(n, indent+se.Col, "%s", se.Msg)
		}
		return a.errorf(n, indent+1, "%v", err)
	}
	return a.addInsn(&insn{p: p, line: n, col: indent}, n, indent)
}

func (a *assembler) addInsn(in *insn, n, indent int) error {
	s := a.cur
	if s.nobits {
		return a.errorf(n, indent+1, "instructions in nobits section %s", s.name)
	}
	s.code = true
	slot := len(s.data) / 8
	in.slot = slot
	in.core, in.src = a.core, a.src
	a.core, a.src = nil, nil
	s.insns = append(s.insns, in)
	s.data = append(s.data, in.p.Raw.BytesOrder(a.bo)...)
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// sourceLine reads "; TEXT [file:F line_num:N line_col:C]": line info
// for the next instruction. Without the bracket, the line is the
// assembly file's own.
func (a *assembler) sourceLine(s string, indent int) error {
	body := strings.TrimPrefix(s, ";")
	body = strings.TrimPrefix(body, " ")
	li := btf.LineInfo{Text: body, File: a.file, Line: uint32(a.lineNo)}
	if i := strings.LastIndex(body, " [file:"); i >= 0 && strings.HasSuffix(body, "]") {
		meta := body[i+2 : len(body)-1]
		li.Text = body[:i]
		f := strings.Fields(meta)
		if len(f) < 3 || !strings.HasPrefix(f[len(f)-1], "line_col:") || !strings.HasPrefix(f[len(f)-2], "line_num:") {
			return a.errorf(a.lineNo, indent+i+3, "expected [file:F line_num:N line_col:C]")
		}
		li.File = strings.TrimPrefix(strings.Join(f[:len(f)-2], " "), "file:")
		ln, err1 := strconv.ParseUint(strings.TrimPrefix(f[len(f)-2], "line_num:"), 10, 22)
		lc, err2 := strconv.ParseUint(strings.TrimPrefix(f[len(f)-1], "line_col:"), 10, 10)
		if err1 != nil || err2 != nil {
			return a.errorf(a.lineNo, indent+i+3, "expected a line number below 2^22 and a column below 1024")
		}
		li.Line, li.Col = uint32(ln), uint32(lc)
	}
	a.src = append(a.src, li)
	a.sourced = true
	return nil
}

func (a *assembler) label(name string, col int) error {
	if a.cur == nil || (!a.cur.code && len(a.cur.data) > 0) {
		return a.errorf(a.lineNo, col, "expected a label inside a code section")
	}
	if _, dup := a.cur.labels[name]; dup {
		return a.errorf(a.lineNo, col, "label %s is defined twice", name)
	}
	a.cur.labels[name] = len(a.cur.data) / 8
	return nil
}

// words splits a directive line into words; a "quoted string" is one word.
func words(s string) ([]string, []int, error) {
	var out []string
	var cols []int
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' || s[i] == ',' {
			i++
			continue
		}
		start := i
		if s[i] == '"' {
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, nil, fmt.Errorf("%d:unterminated string", i+1)
			}
			i = j + 1
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
		}
		out = append(out, s[start:i])
		cols = append(cols, start+1)
	}
	return out, cols, nil
}

func unquote(w string) (string, bool) {
	if strings.HasPrefix(w, "\"") {
		s, err := strconv.Unquote(w)
		return s, err == nil
	}
	return w, true
}

var directives = ".endian .section .func .var .extern .bytes .ascii .zero .ptr .insn .core .btf .license .map"

func (a *assembler) directive(text string, indent int, inBTF *bool) error {
	n := a.lineNo
	w, cols, err := words(text)
	if err != nil {
		c, _ := strconv.Atoi(strings.SplitN(err.Error(), ":", 2)[0])
		return a.errorf(n, indent+c, "unterminated string")
	}
	col := func(i int) int {
		if i < len(cols) {
			return indent + cols[i]
		}
		return indent + len(text) + 1
	}
	need := func(k int, what string) error {
		if len(w) <= k {
			return a.errorf(n, col(k), "expected %s after %s", what, w[0])
		}
		return nil
	}
	switch w[0] {
	case ".section":
		if err := need(1, "a section name"); err != nil {
			return err
		}
		name, ok := unquote(w[1])
		if !ok || name == "" {
			return a.errorf(n, col(1), "expected a section name")
		}
		if a.byName[name] != nil {
			return a.errorf(n, col(1), "section %s is already defined (line %d)", name, a.byName[name].line)
		}
		s := &section{name: name, labels: map[string]int{}, line: n}
		for i, f := range w[2:] {
			if f != "nobits" {
				return a.errorf(n, col(i+2), "expected nobits or the end of the line, found %q", f)
			}
			s.nobits = true
		}
		if strings.HasPrefix(name, ".bss") {
			s.nobits = true
		}
		a.sections = append(a.sections, s)
		a.byName[name] = s
		a.cur = s
		return nil
	case ".btf":
		if a.hasBTF {
			return a.errorf(n, col(0), "a second .btf block")
		}
		a.hasBTF, a.btfLine = true, n
		*inBTF = true
		return nil
	case ".end":
		return a.errorf(n, col(0), ".end without .btf")
	case ".endian":
		if len(w) != 2 || (w[1] != "big" && w[1] != "little") {
			return a.errorf(n, col(1), "expected .endian big or .endian little")
		}
		if a.endianAt != 0 {
			return a.errorf(n, col(0), "the byte order is already given (line %d)", a.endianAt)
		}
		if len(a.sections) > 0 {
			return a.errorf(n, col(0), ".endian goes before the first .section, .map or .license")
		}
		a.endianAt = n
		if w[1] == "big" {
			a.bo = binary.BigEndian
		}
		return nil
	case ".extern":
		if err := need(1, "a name"); err != nil {
			return err
		}
		sym, err := a.define(w[1], col(1), w[2:], cols[2:], indent)
		if err != nil {
			return err
		}
		if sym.bind == 0 {
			sym.bind = 1
		}
		return nil
	}
	if w[0] == ".map" {
		return a.mapDirective(w, col)
	}
	if a.cur == nil {
		if w[0] == ".license" {
			return a.license(w, col)
		}
		if !strings.Contains(directives+" ", w[0]+" ") {
			return a.errorf(n, col(0), "unknown directive %s: expected one of %s", w[0], directives)
		}
		return a.errorf(n, col(0), "expected .section NAME before %s", w[0])
	}
	s := a.cur
	switch w[0] {
	case ".func":
		if err := need(1, "a function name"); err != nil {
			return err
		}
		if len(s.data) > 0 && !s.code {
			return a.errorf(n, col(0), ".func in data section %s: use .var", s.name)
		}
		s.code = true
		sym, err := a.define(w[1], col(1), w[2:], cols[2:], indent)
		if err != nil {
			return err
		}
		sym.sec, sym.value, sym.isFunc = s, uint64(len(s.data)), true
		if _, dup := s.labels[sym.name]; dup {
			return a.errorf(n, col(1), "label %s is defined twice", sym.name)
		}
		s.labels[sym.name] = len(s.data) / 8
		return nil
	case ".var":
		if err := need(1, "a variable name"); err != nil {
			return err
		}
		if s.code {
			return a.errorf(n, col(0), ".var in code section %s: use .func", s.name)
		}
		sym, err := a.define(w[1], col(1), w[2:], cols[2:], indent)
		if err != nil {
			return err
		}
		sym.sec, sym.value = s, uint64(len(s.data))
		return nil
	case ".bytes", ".insn":
		var b []byte
		rel := ""
		for i := 1; i < len(w); i++ {
			if w[0] == ".insn" && w[i] == "rel" {
				if i+1 >= len(w) {
					return a.errorf(n, col(i+1), "expected a symbol after rel")
				}
				rel, _ = unquote(w[i+1])
				if i+2 < len(w) {
					return a.errorf(n, col(i+2), "unexpected %q after the relocation", w[i+2])
				}
				break
			}
			v, err := hex.DecodeString(w[i])
			if err != nil || len(v) != 1 {
				return a.errorf(n, col(i), "expected a byte in hex (00-ff), found %q", w[i])
			}
			b = append(b, v[0])
		}
		if w[0] == ".bytes" {
			return a.addData(b, col(0))
		}
		raws, err := asm.DecodeOrder(b, a.bo)
		if err != nil || len(raws) != 1 {
			return a.errorf(n, col(1), "expected the 8 bytes of one instruction, or 16 of an ldimm64")
		}
		return a.addInsn(&insn{p: asm.Parsed{Raw: raws[0]}, line: n, col: indent, rel: rel}, n, indent)
	case ".ascii":
		if err := need(1, "a quoted string"); err != nil {
			return err
		}
		v, ok := unquote(w[1])
		if !ok || !strings.HasPrefix(w[1], "\"") {
			return a.errorf(n, col(1), "expected a quoted string")
		}
		return a.addData([]byte(v), col(0))
	case ".zero":
		if err := need(1, "a byte count"); err != nil {
			return err
		}
		v, err := strconv.ParseUint(w[1], 0, 31)
		if err != nil {
			return a.errorf(n, col(1), "expected a byte count, found %q", w[1])
		}
		return a.addData(make([]byte, v), col(0))
	case ".ptr":
		if err := need(1, "a symbol"); err != nil {
			return err
		}
		name, addend := w[1], int64(0)
		if i := strings.LastIndexAny(name, "+-"); i > 0 {
			v, err := strconv.ParseInt(name[i:], 0, 64)
			if err != nil {
				return a.errorf(n, col(1)+i, "expected an addend, found %q", name[i:])
			}
			name, addend = name[:i], v
		}
		b := a.bo.AppendUint64(nil, uint64(addend))
		s.relocs = append(s.relocs, reloc{off: uint64(len(s.data)), sym: name, typ: rBPF64Abs64, line: n, col: col(1)})
		return a.addData(b, col(0))
	case ".core":
		if len(w) != 4 {
			return a.errorf(n, col(len(w)), "expected .core KIND [TYPE_ID] \"ACCESS\"")
		}
		kind, ok := btf.CoreReloKindByName(w[1])
		if !ok {
			return a.errorf(n, col(1), "unknown CO-RE relocation kind %q", w[1])
		}
		id, err := strconv.ParseUint(strings.Trim(w[2], "[]"), 10, 32)
		if err != nil {
			return a.errorf(n, col(2), "expected a BTF type ID [N], found %q", w[2])
		}
		acc, ok := unquote(w[3])
		if !ok {
			return a.errorf(n, col(3), "expected a quoted access string")
		}
		a.core = append(a.core, btf.CoreRelo{TypeID: btf.TypeID(id), Access: acc, Kind: kind})
		return nil
	case ".license":
		return a.errorf(n, col(0), ".license goes before the first .section")
	}
	return a.errorf(n, col(0), "unknown directive %s: expected one of %s", w[0], directives)
}

func (a *assembler) addData(b []byte, col int) error {
	s := a.cur
	if s.code {
		return a.errorf(a.lineNo, col, "data in code section %s", s.name)
	}
	if s.nobits && !allZero(b) {
		return a.errorf(a.lineNo, col, "section %s holds no data (nobits): use .zero", s.name)
	}
	s.data = append(s.data, b...)
	return nil
}

// define adds a symbol with its binding words: global, weak, hidden, size=N.
func (a *assembler) define(name string, col int, flags []string, cols []int, indent int) (*symbol, error) {
	name, ok := unquote(name)
	if !ok || name == "" {
		return nil, a.errorf(a.lineNo, col, "expected a symbol name")
	}
	if old := a.syms[name]; old != nil {
		return nil, a.errorf(a.lineNo, col, "symbol %s is already defined (line %d)", name, old.line)
	}
	sym := &symbol{name: name, line: a.lineNo, defined: true}
	for i, f := range flags {
		switch {
		case f == "global":
			sym.bind = 1
		case f == "weak":
			sym.bind = 2
		case f == "local":
			sym.bind = 0
		case f == "hidden":
			sym.hidden = true
		case strings.HasPrefix(f, "size="):
			v, err := strconv.ParseUint(f[5:], 0, 63)
			if err != nil {
				return nil, a.errorf(a.lineNo, indent+cols[i]+5, "expected a size, found %q", f[5:])
			}
			sym.size, sym.sized = v, true
		default:
			return nil, a.errorf(a.lineNo, indent+cols[i], "expected global, weak, local, hidden or size=N, found %q", f)
		}
	}
	a.syms[name] = sym
	a.order = append(a.order, sym)
	return sym, nil
}

// license is the .license "GPL" shorthand: a license section with the
// LICENSE variable, as clang writes it.
func (a *assembler) license(w []string, col func(int) int) error {
	if len(w) != 2 {
		return a.errorf(a.lineNo, col(1), "expected .license \"NAME\"")
	}
	v, ok := unquote(w[1])
	if !ok || !strings.HasPrefix(w[1], "\"") {
		return a.errorf(a.lineNo, col(1), "expected a quoted license, .license \"GPL\"")
	}
	if a.byName["license"] != nil {
		return a.errorf(a.lineNo, col(0), "the license is already given")
	}
	s := &section{name: "license", data: append([]byte(v), 0), labels: map[string]int{}, line: a.lineNo}
	a.sections = append(a.sections, s)
	a.byName["license"] = s
	sym, err := a.define("LICENSE", col(0), []string{"global"}, []int{0}, 0)
	if err != nil {
		return err
	}
	sym.sec, sym.size, sym.sized = s, uint64(len(s.data)), true
	return nil
}
