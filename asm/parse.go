package asm

import (
	"fmt"
	"strconv"
	"strings"
)

// This file is the inverse of Format: it reads one instruction written in
// the kernel's disassembly grammar back into its encoding, using the same
// mnemonic tables. Jump and call targets may be labels, and 64-bit
// immediates and calls may name symbols; those are left to the caller
// (the text assembler), which knows the labels and symbols of a file.

// SyntaxError is a mistake in an instruction: Col is the 1-based column
// (in bytes) of what was unexpected in the text given to ParseInstruction.
type SyntaxError struct {
	Col int
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

// RefKind says what a symbol reference of an instruction stands for.
type RefKind uint8

// Symbol references: "map[NAME]+N" (a map, a variable or a data section),
// "func[NAME]" (a function's address, for callbacks), "extern[NAME]" (an
// extern resolved by the loader: ksyms, kconfig) and "call NAME" of
// something that is not a helper (a function or a kfunc).
const (
	RefNone RefKind = iota
	RefMap
	RefFunc
	RefExtern
	RefCall
)

// Parsed is one parsed instruction. Raw holds every field the text fixes;
// Target (with TargetCol) is a label the caller resolves into the jump
// offset (Off, or Imm for gotol and calls); Ref names a symbol the caller
// relocates.
type Parsed struct {
	Raw       Raw
	Target    string
	TargetCol int
	Ref       RefKind
	RefName   string
	RefCol    int
}

type token struct {
	text string
	col  int
	kind byte // 'i' ident, 'n' number, 'p' punctuation
}

// operators, longest first where one is a prefix of another.
var punct = []string{
	"s>>=", "<<=", ">>=", "s>=", "s<=", "s/=", "s%=",
	"+=", "-=", "*=", "/=", "|=", "&=", "%=", "^=", "==", "!=", ">=", "<=",
	"s>", "s<", ">", "<", "=", "&", "+", "-", "*", "(", ")", "[", "]", ",", "#", ":",
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == 's' && i+1 < len(s) && strings.ContainsRune("<>/%", rune(s[i+1])):
			// the signed operators: s>>=, s>=, s/= ...
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{s[i:j], i + 1, 'i'})
			i = j
			continue
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && (isIdentChar(s[j])) {
				j++
			}
			toks = append(toks, token{s[i:j], i + 1, 'n'})
			i = j
			continue
		}
		matched := false
		for _, p := range punct {
			if strings.HasPrefix(s[i:], p) {
				toks = append(toks, token{p, i + 1, 'p'})
				i += len(p)
				matched = true
				break
			}
		}
		if !matched {
			return nil, &SyntaxError{i + 1, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

type parser struct {
	toks []token
	pos  int
	end  int // column just past the text, for "expected X at end"
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{col: p.end}
}

func (p *parser) next() token {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *parser) is(text string) bool { return p.peek().text == text && p.peek().kind != 0 }

func (p *parser) accept(text string) bool {
	if p.is(text) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) fail(t token, want string) error {
	got := "end of instruction"
	if t.kind != 0 {
		got = fmt.Sprintf("'%s'", t.text)
	}
	return &SyntaxError{t.col, fmt.Sprintf("expected %s, found %s", want, got)}
}

func (p *parser) expect(text string) error {
	if p.accept(text) {
		return nil
	}
	return p.fail(p.peek(), fmt.Sprintf("'%s'", text))
}

// register parses rN or wN; wide is true for rN.
func (p *parser) register() (n uint8, wide bool, col int, err error) {
	t := p.peek()
	if r, w, ok := regName(t); ok {
		p.pos++
		return r, w, t.col, nil
	}
	return 0, false, t.col, p.fail(t, "a register r0-r10 or w0-w10")
}

func regName(t token) (uint8, bool, bool) {
	if t.kind != 'i' || len(t.text) < 2 || (t.text[0] != 'r' && t.text[0] != 'w') {
		return 0, false, false
	}
	n, err := strconv.ParseUint(t.text[1:], 10, 8)
	if err != nil || n > 10 || (len(t.text) > 2 && t.text[1] == '0') {
		return 0, false, false
	}
	return uint8(n), t.text[0] == 'r', true
}

// number parses an optionally negative decimal or hexadecimal integer.
func (p *parser) number(what string) (v int64, hex bool, col int, err error) {
	neg := false
	t := p.peek()
	col = t.col
	if t.text == "-" && t.kind == 'p' {
		neg = true
		p.pos++
		t = p.peek()
	} else if t.text == "+" && t.kind == 'p' {
		p.pos++
		t = p.peek()
	}
	if t.kind != 'n' {
		return 0, false, col, p.fail(t, what)
	}
	p.pos++
	text := t.text
	base := 10
	if strings.HasPrefix(text, "0x") || strings.HasPrefix(text, "0X") {
		text, base, hex = text[2:], 16, true
	}
	u, perr := strconv.ParseUint(text, base, 64)
	if perr != nil {
		return 0, false, col, &SyntaxError{t.col, fmt.Sprintf("expected %s, found '%s'", what, t.text)}
	}
	if neg {
		if u > 1<<63 {
			return 0, false, col, &SyntaxError{col, fmt.Sprintf("%s out of range", what)}
		}
		return -int64(u), hex, col, nil
	}
	return int64(u), hex, col, nil
}

// imm32 parses an immediate that must fit 32 bits, signed or (written in
// hex or as a large positive number) unsigned.
func (p *parser) imm32(what string) (int32, error) {
	v, _, col, err := p.number(what)
	if err != nil {
		return 0, err
	}
	if v < -1<<31 || v > 1<<32-1 {
		return 0, &SyntaxError{col, fmt.Sprintf("%s %d does not fit in 32 bits", what, v)}
	}
	return int32(uint32(v)), nil
}

func (p *parser) size() (code uint8, signed bool, err error) {
	t := p.peek()
	for i := range unsignedSizes {
		if t.text == unsignedSizes[i] {
			p.pos++
			return uint8(i) << 3, false, nil
		}
		if t.text == signedSizes[i] {
			p.pos++
			return uint8(i) << 3, true, nil
		}
	}
	return 0, false, p.fail(t, "a size u8, u16, u32 or u64")
}

// memType parses "*(SIZE *)" after its star, or "(SIZE *)".
func (p *parser) memType() (uint8, bool, error) {
	if err := p.expect("("); err != nil {
		return 0, false, err
	}
	size, signed, err := p.size()
	if err != nil {
		return 0, false, err
	}
	if err := p.expect("*"); err != nil {
		return 0, false, err
	}
	return size, signed, p.expect(")")
}

// memOperand parses open (a "(" or "*"), then "(SIZE *)(rN +OFF)": the
// memory operand of stores, packet-free loads and atomics.
func (p *parser) memOperand(open string) (size uint8, signed bool, reg uint8, off int16, err error) {
	if err = p.expect(open); err != nil {
		return
	}
	if size, signed, err = p.memType(); err != nil {
		return
	}
	reg, off, err = p.memRef()
	return
}

// memRef parses "(rN +OFF)"; the offset may be left out.
func (p *parser) memRef() (reg uint8, off int16, err error) {
	if err := p.expect("("); err != nil {
		return 0, 0, err
	}
	r, wide, col, err := p.register()
	if err != nil {
		return 0, 0, err
	}
	if !wide {
		return 0, 0, &SyntaxError{col, "expected a 64-bit register rN as the address"}
	}
	if !p.is(")") {
		if !p.is("+") && !p.is("-") {
			return 0, 0, p.fail(p.peek(), "'+OFFSET', '-OFFSET' or ')'")
		}
		v, _, col, err := p.number("an offset")
		if err != nil {
			return 0, 0, err
		}
		if v < -1<<15 || v >= 1<<15 {
			return 0, 0, &SyntaxError{col, fmt.Sprintf("offset %d does not fit in 16 bits", v)}
		}
		off = int16(v)
	}
	return r, off, p.expect(")")
}

// target parses "pc+N", "pc-N" or a label.
func (p *parser) target(pr *Parsed, bits int) (int64, error) {
	t := p.peek()
	if t.text == "pc" && t.kind == 'i' {
		p.pos++
		if !p.is("+") && !p.is("-") {
			return 0, p.fail(p.peek(), "'+N' or '-N' after pc")
		}
		v, _, col, err := p.number("a jump offset")
		if err != nil {
			return 0, err
		}
		if v < -1<<(bits-1) || v >= 1<<(bits-1) {
			return 0, &SyntaxError{col, fmt.Sprintf("jump offset %d does not fit in %d bits", v, bits)}
		}
		return v, nil
	}
	if t.kind != 'i' {
		return 0, p.fail(t, "a jump target: a label or pc+N")
	}
	p.pos++
	pr.Target, pr.TargetCol = t.text, t.col
	return 0, nil
}

// ParseInstruction parses one instruction in the kernel's grammar, as
// Format prints it, without or with the index ("12:") and opcode ("(bf)")
// bpftool prints before it; an opcode given must agree with the text.
// Also accepted: "pc+N" or a label as jump and call targets, a decimal
// immediate of a move (a hexadecimal one, or one followed by "ll", makes a
// 64-bit immediate load), "map[NAME]+N", "func[NAME]" and "extern[NAME]"
// references, and "call NAME" of a helper, function or kfunc.
func ParseInstruction(text string) (Parsed, error) {
	toks, err := tokenize(text)
	if err != nil {
		return Parsed{}, err
	}
	p := &parser{toks: toks, end: len(text) + 1}
	if len(toks) >= 2 && toks[0].kind == 'n' && toks[1].text == ":" {
		p.pos = 2
	}
	wantCode, codeCol := -1, 0
	if p.is("(") && p.pos+2 < len(toks) && toks[p.pos+2].text == ")" && len(toks[p.pos+1].text) == 2 {
		if c, err := strconv.ParseUint(toks[p.pos+1].text, 16, 8); err == nil {
			wantCode, codeCol = int(c), toks[p.pos+1].col
			p.pos += 3
		}
	}
	var pr Parsed
	if err := p.statement(&pr); err != nil {
		return Parsed{}, err
	}
	if t := p.peek(); t.kind != 0 {
		return Parsed{}, &SyntaxError{t.col, fmt.Sprintf("unexpected '%s' after the instruction", t.text)}
	}
	if wantCode >= 0 && uint8(wantCode) != pr.Raw.Code {
		return Parsed{}, &SyntaxError{codeCol, fmt.Sprintf("opcode (%02x) does not match the instruction, which is (%02x)", wantCode, pr.Raw.Code)}
	}
	return pr, nil
}

func (p *parser) statement(pr *Parsed) error {
	r := &pr.Raw
	t := p.peek()
	switch {
	case t.kind == 0:
		return p.fail(t, "an instruction")
	case t.text == "exit":
		p.pos++
		r.Code = classJMP | opEXIT
		return nil
	case t.text == "nospec":
		p.pos++
		r.Code = classST | 0xc0
		return nil
	case t.text == "goto" || t.text == "may_goto":
		p.pos++
		r.Code = classJMP | opJA
		if t.text == "may_goto" {
			r.Code = classJMP | opCOND
		}
		off, err := p.target(pr, 16)
		r.Off = int16(off)
		return err
	case t.text == "gotol":
		p.pos++
		r.Code = classJMP32 | opJA
		off, err := p.target(pr, 32)
		r.Imm = int32(off)
		return err
	case t.text == "gotox":
		p.pos++
		r.Code = classJMP | opJA | srcX
		reg, _, _, err := p.register()
		r.Dst = reg
		return err
	case t.text == "if":
		p.pos++
		return p.condJump(pr)
	case t.text == "call":
		p.pos++
		return p.call(pr)
	case t.text == "lock":
		p.pos++
		return p.lockOp(r)
	case t.text == "*":
		p.pos++
		return p.store(r)
	case t.text == "store_release":
		p.pos++
		r.Imm = atomicStoreRl
		size, _, dst, off, err := p.memOperand("(")
		if err != nil {
			return err
		}
		r.Dst, r.Off = dst, off
		if err := p.expect(","); err != nil {
			return err
		}
		if r.Src, _, _, err = p.register(); err != nil {
			return err
		}
		r.Code = classSTX | modeATOMIC | size
		return p.expect(")")
	}
	if _, _, ok := regName(t); ok {
		return p.assign(pr)
	}
	return p.fail(t, "an instruction (a register, '*', if, goto, call, exit, lock ...)")
}

func (p *parser) condJump(pr *Parsed) error {
	r := &pr.Raw
	dst, wide, _, err := p.register()
	if err != nil {
		return err
	}
	r.Dst = dst
	cls := uint8(classJMP)
	if !wide {
		cls = classJMP32
	}
	opTok := p.next()
	op := -1
	for i, name := range jmpOps {
		if name == opTok.text && opTok.kind == 'p' {
			op = i
		}
	}
	if op < 0 {
		return p.fail(opTok, "a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)")
	}
	r.Code = cls | uint8(op)<<4
	if src, w, col, ok := regOf(p.peek()); ok {
		p.pos++
		if w != wide {
			return &SyntaxError{col, "expected registers of one width: both rN or both wN"}
		}
		r.Src = src
		r.Code |= srcX
	} else {
		if r.Imm, err = p.imm32("a register or an immediate"); err != nil {
			return err
		}
	}
	if err := p.expect("goto"); err != nil {
		return err
	}
	off, err := p.target(pr, 16)
	r.Off = int16(off)
	return err
}

func regOf(t token) (uint8, bool, int, bool) {
	n, w, ok := regName(t)
	return n, w, t.col, ok
}

func (p *parser) call(pr *Parsed) error {
	r := &pr.Raw
	r.Code = classJMP | opCALL
	t := p.peek()
	if t.text == "pc" {
		r.Src = pseudoCall
		off, err := p.target(pr, 32)
		r.Imm = int32(off)
		return err
	}
	if t.text == "#" { // "call #N", a helper by number
		p.pos++
		v, err := p.imm32("a helper number")
		r.Imm = v
		return err
	}
	if t.kind != 'i' {
		return p.fail(t, "a helper, function or label name, or pc+N")
	}
	p.pos++
	if p.accept("#") {
		v, err := p.imm32("a helper number")
		if err != nil {
			return err
		}
		if id, ok := helperID(t.text); ok && id != v {
			return &SyntaxError{t.col, fmt.Sprintf("%s is helper #%d, not #%d", t.text, id, v)}
		}
		r.Imm = v
		return nil
	}
	if id, ok := helperID(t.text); ok {
		r.Imm = id
		return nil
	}
	// A function, kfunc or label: the assembler decides.
	r.Src = pseudoCall
	pr.Ref, pr.RefName, pr.RefCol = RefCall, t.text, t.col
	return nil
}

var helperIDs = func() map[string]int32 {
	m := make(map[string]int32, len(helperNames))
	for i, n := range helperNames {
		if i > 0 {
			m[n] = int32(i)
		}
	}
	return m
}()

// HelperID returns the id of the UAPI helper called name, the inverse of
// HelperName.
func HelperID(name string) (int32, bool) {
	id, ok := helperIDs[name]
	return id, ok
}

func helperID(name string) (int32, bool) { return HelperID(name) }

func (p *parser) lockOp(r *Raw) error {
	size, _, dst, off, err := p.memOperand("*")
	if err != nil {
		return err
	}
	r.Dst, r.Off = dst, off
	opTok := p.next()
	found := false
	for imm := range atomicALU {
		if aluOps[imm>>4] == opTok.text {
			r.Imm, found = imm, true
		}
	}
	if !found {
		return p.fail(opTok, "an atomic operation +=, |=, &= or ^=")
	}
	if r.Src, _, _, err = p.register(); err != nil {
		return err
	}
	r.Code = classSTX | modeATOMIC | size
	return nil
}

func (p *parser) store(r *Raw) error {
	size, signed, err := p.memType()
	if err != nil {
		return err
	}
	if signed {
		return &SyntaxError{p.toks[p.pos-3].col, "expected an unsigned size for a store"}
	}
	if r.Dst, r.Off, err = p.memRef(); err != nil {
		return err
	}
	if err := p.expect("="); err != nil {
		return err
	}
	if src, wide, col, ok := regOf(p.peek()); ok {
		p.pos++
		if !wide {
			return &SyntaxError{col, "expected a 64-bit register rN as the value stored"}
		}
		r.Src = src
		r.Code = classSTX | modeMEM | size
		return nil
	}
	r.Code = classST | modeMEM | size
	r.Imm, err = p.imm32("a register or an immediate")
	return err
}

// assign parses the instructions that start with a register.
func (p *parser) assign(pr *Parsed) error {
	r := &pr.Raw
	dst, wide, dcol, _ := p.register()
	r.Dst = dst
	cls := uint8(classALU64)
	if !wide {
		cls = classALU
	}
	opTok := p.next()
	if opTok.text != "=" {
		op := -1
		name := opTok.text
		signed := strings.HasPrefix(name, "s") && (name == "s/=" || name == "s%=")
		if signed {
			name = name[1:]
		}
		for i, n := range aluOps {
			if n == name && opTok.kind == 'p' && n != "=" {
				op = i
			}
		}
		if op < 0 {
			return p.fail(opTok, "an assignment (=, +=, -=, *=, /=, %=, &=, |=, ^=, <<=, >>=, s>>=, s/=, s%=)")
		}
		r.Code = cls | uint8(op)<<4
		if signed {
			r.Off = 1
		}
		return p.aluSource(r, wide)
	}
	t := p.peek()
	switch {
	case t.text == "-":
		if n, w, ok := regName(p.lookahead(1)); ok {
			p.pos += 2
			if n != dst || w != wide {
				return &SyntaxError{t.col, "expected the negation of the destination itself"}
			}
			r.Code = cls | opNEG
			return nil
		}
	case t.text == "*":
		p.pos++
		return p.load(r, wide, dcol)
	case t.text == "(":
		// a sign-extending move: (s8)rS
		p.pos++
		st := p.next()
		bits := map[string]int16{"s8": 8, "s16": 16, "s32": 32}[st.text]
		if bits == 0 {
			return p.fail(st, "s8, s16 or s32")
		}
		if err := p.expect(")"); err != nil {
			return err
		}
		src, w, col, err := p.register()
		if err != nil {
			return err
		}
		if w != wide {
			return &SyntaxError{col, "expected registers of one width"}
		}
		r.Code, r.Src, r.Off = cls|opMOV|srcX, src, bits
		return nil
	case t.text == "&":
		p.pos++
		for _, want := range []string{"(", "void", "__percpu", "*", ")"} {
			if err := p.expect(want); err != nil {
				return err
			}
		}
		return p.regArg(r, classALU64|opMOV|srcX, offPercpuAddr)
	case t.kind == 'i':
		if _, _, ok := regName(t); ok {
			break
		}
		return p.namedSource(pr, wide, dcol)
	}
	r.Code = cls | opMOV
	if src, w, col, ok := regOf(p.peek()); ok {
		p.pos++
		if w != wide {
			return &SyntaxError{col, "expected registers of one width: both rN or both wN"}
		}
		r.Src = src
		r.Code |= srcX
		return nil
	}
	v, hex, col, err := p.number("a register, an immediate or a reference")
	if err != nil {
		return err
	}
	ll := p.accept("ll")
	if (hex || ll) && wide {
		r.Code = classLD | modeIMM | sizeDW
		r.Wide = true
		r.Imm, r.Imm2 = int32(uint32(v)), int32(uint32(uint64(v)>>32))
		return nil
	}
	if ll {
		return &SyntaxError{col, "expected a 64-bit register rN for a 64-bit immediate (ll)"}
	}
	if v < -1<<31 || v > 1<<32-1 || (!hex && wide && v > 1<<31-1) {
		return &SyntaxError{col, fmt.Sprintf("immediate %d does not fit in 32 bits; write it in hex (or add ll) for a 64-bit load", v)}
	}
	r.Imm = int32(uint32(v))
	return nil
}

func (p *parser) lookahead(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return token{col: p.end}
}

func (p *parser) regArg(r *Raw, code uint8, off int16) error {
	if err := p.expect("("); err != nil {
		return err
	}
	src, _, _, err := p.register()
	if err != nil {
		return err
	}
	r.Code, r.Src, r.Off = code, src, off
	return p.expect(")")
}

func (p *parser) aluSource(r *Raw, wide bool) error {
	if src, w, col, ok := regOf(p.peek()); ok {
		p.pos++
		if w != wide {
			return &SyntaxError{col, "expected registers of one width: both rN or both wN"}
		}
		r.Src = src
		r.Code |= srcX
		return nil
	}
	var err error
	r.Imm, err = p.imm32("a register or an immediate")
	return err
}

// load parses "*(SIZE *)(rS +OFF)" and the packet loads "*(SIZE *)skb[...]".
func (p *parser) load(r *Raw, wide bool, dcol int) error {
	size, signed, err := p.memType()
	if err != nil {
		return err
	}
	if !wide {
		return &SyntaxError{dcol, "expected a 64-bit register rN to load into"}
	}
	if p.accept("skb") {
		if signed || size == sizeDW {
			return &SyntaxError{dcol, "expected u8, u16 or u32 for a packet load"}
		}
		if r.Dst != 0 {
			return &SyntaxError{dcol, "expected r0: packet loads load into r0"}
		}
		if err := p.expect("["); err != nil {
			return err
		}
		r.Code = classLD | modeABS | size
		if src, _, _, ok := regOf(p.peek()); ok {
			p.pos++
			r.Src = src
			r.Code = classLD | modeIND | size
			if err := p.expect("+"); err != nil {
				return err
			}
		}
		if r.Imm, err = p.imm32("an offset"); err != nil {
			return err
		}
		return p.expect("]")
	}
	mode := uint8(modeMEM)
	if signed {
		mode = modeMEMSX
	}
	r.Code = classLDX | mode | size
	r.Src, r.Off, err = p.memRef()
	return err
}

// namedSource parses what follows "rD = " and starts with a name: byte
// swaps, atomics, address space casts and symbol references.
func (p *parser) namedSource(pr *Parsed, wide bool, dcol int) error {
	r := &pr.Raw
	t := p.next()
	name := t.text
	switch {
	case strings.HasPrefix(name, "be") || strings.HasPrefix(name, "le") || strings.HasPrefix(name, "bswap"):
		bits := strings.TrimLeft(name, "belswap")
		n, err := strconv.Atoi(bits)
		if err != nil || (n != 16 && n != 32 && n != 64) {
			return &SyntaxError{t.col, fmt.Sprintf("expected be16/32/64, le16/32/64 or bswap16/32/64, found '%s'", name)}
		}
		src, _, col, err := p.register()
		if err != nil {
			return err
		}
		if src != r.Dst {
			return &SyntaxError{col, "expected the destination register: byte swaps work in place"}
		}
		if !wide {
			return &SyntaxError{dcol, "expected rN: byte swaps are written on 64-bit registers"}
		}
		r.Imm = int32(n)
		switch name[0] {
		case 'b':
			r.Code = classALU | opEND
			if name[1] == 'e' {
				r.Code |= srcX
			} else {
				r.Code = classALU64 | opEND
			}
		case 'l':
			r.Code = classALU | opEND
		}
		return nil
	case name == "addr_space_cast":
		if err := p.expect("("); err != nil {
			return err
		}
		src, _, _, err := p.register()
		if err != nil {
			return err
		}
		if err := p.expect(","); err != nil {
			return err
		}
		a, _, acol, err := p.number("an address space")
		if err != nil {
			return err
		}
		if err := p.expect(","); err != nil {
			return err
		}
		b, _, bcol, err := p.number("an address space")
		if err != nil {
			return err
		}
		if a < 0 || a > 0xffff {
			return &SyntaxError{acol, "address space out of range"}
		}
		if b < 0 || b > 0xffff {
			return &SyntaxError{bcol, "address space out of range"}
		}
		r.Code, r.Src, r.Off, r.Imm = classALU64|opMOV|srcX, src, offAddrSpaceCast, int32(uint32(a)<<16|uint32(b))
		return p.expect(")")
	case name == "load_acquire":
		size, _, src, off, err := p.memOperand("(")
		if err != nil {
			return err
		}
		r.Src, r.Off = src, off
		r.Code, r.Imm = classSTX|modeATOMIC|size, atomicLoadAcq
		return p.expect(")")
	case strings.HasPrefix(name, "atomic"):
		return p.atomicCall(r, t, dcol)
	case name == "map" || name == "func" || name == "extern":
		if !wide {
			return &SyntaxError{dcol, "expected a 64-bit register rN for a reference"}
		}
		if err := p.expect("["); err != nil {
			return err
		}
		sym := p.next()
		if sym.kind != 'i' {
			return p.fail(sym, "a symbol name")
		}
		if err := p.expect("]"); err != nil {
			return err
		}
		if p.is("[") { // elf dump's map[.rodata][0]+8
			p.pos++
			if v, _, col, err := p.number("0"); err != nil || v != 0 {
				if err == nil {
					err = &SyntaxError{col, "expected [0]"}
				}
				return err
			}
			if err := p.expect("]"); err != nil {
				return err
			}
		}
		r.Code, r.Wide = classLD|modeIMM|sizeDW, true
		if p.is("+") || p.is("-") {
			var err error
			if r.Imm, err = p.imm32("an offset"); err != nil {
				return err
			}
		}
		pr.Ref, pr.RefName, pr.RefCol = map[string]RefKind{"map": RefMap, "func": RefFunc, "extern": RefExtern}[name], sym.text, sym.col
		return nil
	}
	return &SyntaxError{t.col, fmt.Sprintf("expected a register, an immediate, a load or a reference (map[NAME], func[NAME], extern[NAME]), found '%s'", name)}
}

// atomicCall parses the atomics written as calls: fetch operations,
// exchanges and compare-and-exchange.
func (p *parser) atomicCall(r *Raw, t token, dcol int) error {
	result := r.Dst
	name := strings.TrimPrefix(t.text, "atomic")
	name = strings.TrimPrefix(name, "64")
	name = strings.TrimPrefix(name, "_")
	size, _, dst, off, err := p.memOperand("(")
	if err != nil {
		return err
	}
	r.Dst, r.Off = dst, off
	if err := p.expect(","); err != nil {
		return err
	}
	switch {
	case name == "cmpxchg":
		r0, _, col, err := p.register()
		if err != nil {
			return err
		}
		if r0 != 0 {
			return &SyntaxError{col, "expected r0: cmpxchg compares with r0"}
		}
		if err := p.expect(","); err != nil {
			return err
		}
		r.Imm = atomicCmpXchg
	case name == "xchg":
		r.Imm = atomicXchg
	case strings.HasPrefix(name, "fetch_"):
		found := false
		for imm, n := range atomicALU {
			if "fetch_"+n == name {
				r.Imm, found = imm|atomicFetch, true
			}
		}
		if !found {
			return &SyntaxError{t.col, fmt.Sprintf("expected atomic_fetch_add, _or, _and or _xor, found '%s'", t.text)}
		}
	default:
		return &SyntaxError{t.col, fmt.Sprintf("expected an atomic operation (atomic_fetch_add, atomic_xchg, atomic_cmpxchg ...), found '%s'", t.text)}
	}
	src, _, _, err := p.register()
	if err != nil {
		return err
	}
	r.Src = src
	r.Code = classSTX | modeATOMIC | size
	if r.Imm == atomicCmpXchg && result != 0 {
		return &SyntaxError{dcol, "expected r0 = atomic_cmpxchg(...): the old value goes to r0"}
	}
	if r.Imm != atomicCmpXchg && result != src {
		return &SyntaxError{dcol, fmt.Sprintf("expected r%d = ...: the old value goes to the source register", src)}
	}
	return p.expect(")")
}
