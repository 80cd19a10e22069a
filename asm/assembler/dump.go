package assembler

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// ELF constants the dump and the writer share.
const (
	shtProgbits = 1
	shtNobits   = 8
	shfWrite    = 0x1
	shfAlloc    = 0x2
	shfExec     = 0x4

	rBPF64_64    = 1
	rBPF64Abs64  = 2
	rBPF64_32    = 10
	shnUndef     = 0
	shnLoReserve = 0xff00
)

// DumpOptions selects what Dump writes.
type DumpOptions struct {
	// Program limits the code to one program's section (and .text, whose
	// subprograms it may call); "" dumps every program.
	Program string
}

// dumper holds an object being turned into assembly text.
type dumper struct {
	f      *elfobj.File
	b      bytes.Buffer
	syms   map[int]*elfobj.Symbol // by symbol index
	relocs map[int]map[uint64]elfobj.Reloc
	ext    map[string]*btf.ExtSection
	spec   *btf.Spec
	bo     binary.ByteOrder
	// Fallbacks counts instructions written as .insn because the grammar
	// could not say them exactly.
	fallbacks int
}

// Dump writes a BPF ELF object as an assembly file that Assemble builds
// back into an object with the same instructions, relocations, data and
// BTF. It returns the text and how many instructions it had to write as
// raw .insn bytes.
func Dump(f *elfobj.File, opts DumpOptions) ([]byte, int, error) {
	d := &dumper{f: f, bo: binary.LittleEndian, syms: map[int]*elfobj.Symbol{}, relocs: map[int]map[uint64]elfobj.Reloc{}, ext: map[string]*btf.ExtSection{}}
	for i := range f.Symbols {
		d.syms[f.Symbols[i].Num] = &f.Symbols[i]
	}
	for _, rs := range f.Relocations {
		m := d.relocs[int(rs.TargetIndex)]
		if m == nil {
			m = map[uint64]elfobj.Reloc{}
			d.relocs[int(rs.TargetIndex)] = m
		}
		for _, r := range rs.Entries {
			m[r.Offset] = r
		}
	}
	var btfText bytes.Buffer
	if raw, ok := f.SectionData(".BTF"); ok {
		spec, err := btf.Parse(raw, nil)
		if err != nil {
			return nil, 0, fmt.Errorf(".BTF: %w", err)
		}
		d.spec = spec
		if err := btf.WriteRaw(&btfText, spec, nil); err != nil {
			return nil, 0, err
		}
		if ext, ok := f.SectionData(".BTF.ext"); ok {
			secs, err := btf.ParseExt(ext, spec)
			if err != nil {
				return nil, 0, fmt.Errorf(".BTF.ext: %w", err)
			}
			for _, s := range secs {
				d.ext[s.Name] = s
			}
		}
	}

	progSection := ""
	if opts.Program != "" {
		for _, p := range f.Programs {
			if p.Name == opts.Program && !p.Subprogram {
				progSection = p.Section
			}
		}
		if progSection == "" {
			return nil, 0, fmt.Errorf("no program named %s in the object", opts.Program)
		}
	}

	fmt.Fprintf(&d.b, "// BPF assembly written by bpfkit asm dump; build it with bpfkit asm build.\n")
	if !f.LittleEndian() {
		d.bo = binary.BigEndian
		d.b.WriteString(".endian big\n")
	}
	for i := range f.Symbols {
		s := &f.Symbols[i]
		if s.SectionIndex == shnUndef && s.Name != "" && s.Type != "FILE" {
			fmt.Fprintf(&d.b, ".extern %s%s\n", s.Name, bindWord(s, true))
		}
	}
	for i := range f.Sections {
		sec := &f.Sections[i]
		if sec.FlagsNum&shfAlloc == 0 || (sec.TypeNum != shtProgbits && sec.TypeNum != shtNobits) {
			continue
		}
		if sec.FlagsNum&shfExec != 0 {
			if progSection != "" && sec.Name != progSection && sec.Name != ".text" {
				continue
			}
			if sec.Size == 0 {
				continue
			}
			if err := d.code(i); err != nil {
				return nil, 0, err
			}
			continue
		}
		d.data(i)
	}
	if btfText.Len() > 0 {
		d.b.WriteString("\n.btf\n")
		d.b.Write(btfText.Bytes())
		d.b.WriteString(".end\n")
	}
	return d.b.Bytes(), d.fallbacks, nil
}

func bindWord(s *elfobj.Symbol, extern bool) string {
	w := ""
	switch s.Bind {
	case "GLOBAL":
		if !extern {
			w = " global"
		}
	case "WEAK":
		w = " weak"
	}
	if s.Visibility == "HIDDEN" {
		w += " hidden"
	}
	return w
}

func quoteName(n string) string {
	if n == "" || strings.ContainsAny(n, " \t\"") || strings.Contains(n, "//") {
		return fmt.Sprintf("%q", n)
	}
	return n
}

// symbolsAt lists the symbols of section sec by offset, of the types
// wanted.
func (d *dumper) symbolsAt(sec int, types ...string) map[uint64][]*elfobj.Symbol {
	out := map[uint64][]*elfobj.Symbol{}
	for i := range d.f.Symbols {
		s := &d.f.Symbols[i]
		if int(s.SectionIndex) != sec || s.Name == "" {
			continue
		}
		for _, t := range types {
			if s.Type == t {
				out[s.Value] = append(out[s.Value], s)
			}
		}
	}
	return out
}

// code writes an executable section.
func (d *dumper) code(sec int) error {
	s := &d.f.Sections[sec]
	raws, err := asm.DecodeOrder(d.f.SectionBytes(sec), d.bo)
	if err != nil {
		return fmt.Errorf("section %s: %w", s.Name, err)
	}
	funcs := d.symbolsAt(sec, "FUNC")
	// Slot index of each instruction, and labels for jump targets.
	idx := make([]int, len(raws))
	starts := map[int]bool{}
	n := 0
	for i, r := range raws {
		idx[i] = n
		starts[n] = true
		n += r.Slots()
	}
	labels := map[int]string{}
	relocs := d.relocs[sec]
	for i, r := range raws {
		if t, ok := jumpTarget(r, idx[i], relocs); ok && starts[t] {
			labels[t] = labelName(t, funcs)
		}
	}
	ext := d.ext[s.Name]
	fmt.Fprintf(&d.b, "\n.section %s\n", quoteName(s.Name))
	li, ci := 0, 0
	for i, r := range raws {
		off := uint64(idx[i]) * 8
		for _, fs := range funcs[off] {
			fmt.Fprintf(&d.b, ".func %s%s\n", fs.Name, bindWord(fs, false))
		}
		if l, ok := labels[idx[i]]; ok && !isFuncAt(funcs[off], l) {
			fmt.Fprintf(&d.b, "%s:\n", l)
		}
		if ext != nil {
			for ; ci < len(ext.Relos) && uint64(ext.Relos[ci].InsnOff) <= off; ci++ {
				c := ext.Relos[ci]
				fmt.Fprintf(&d.b, "\t.core %s [%d] %q\n", c.Kind, c.TypeID, c.Access)
			}
			for ; li < len(ext.Lines) && uint64(ext.Lines[li].InsnOff) <= off; li++ {
				l := ext.Lines[li]
				fmt.Fprintf(&d.b, "; %s [file:%s line_num:%d line_col:%d]\n", l.Text, l.File, l.Line, l.Col)
			}
		}
		text := d.insnText(r, idx[i], relocs[off], labels)
		fmt.Fprintf(&d.b, "\t%s\n", text)
	}
	return nil
}

func isFuncAt(fs []*elfobj.Symbol, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

// labelName names a jump target: the function starting there, or L<slot>.
func labelName(slot int, funcs map[uint64][]*elfobj.Symbol) string {
	if fs := funcs[uint64(slot)*8]; len(fs) == 1 {
		return fs[0].Name
	}
	return fmt.Sprintf("L%d", slot)
}

// jumpTarget is the slot a jump (or an unrelocated bpf-to-bpf call) goes to.
func jumpTarget(r asm.Raw, slot int, relocs map[uint64]elfobj.Reloc) (int, bool) {
	cls := r.Class()
	if cls != 0x05 && cls != 0x06 {
		return 0, false
	}
	op := r.Code & 0xf0
	switch {
	case op == 0x90: // exit
		return 0, false
	case op == 0x80: // call
		if r.Src != 1 {
			return 0, false
		}
		if _, ok := relocs[uint64(slot)*8]; ok {
			return 0, false
		}
		return slot + 1 + int(r.Imm), true
	case r.Code == 0x05|0x08: // gotox
		return 0, false
	case r.Code == 0x06: // gotol
		return slot + 1 + int(r.Imm), true
	}
	return slot + 1 + int(r.Off), true
}

// insnText writes one instruction, checking that the text parses back to
// the same encoding; where it does not, the instruction is written as
// .insn bytes.
func (d *dumper) insnText(r asm.Raw, slot int, rel elfobj.Reloc, labels map[int]string) string {
	text := strings.TrimSpace(asm.Format(r, nil)[5:])
	var wantRef asm.RefKind
	var wantName string
	if rel.Type != "" {
		text, wantRef, wantName = d.relocText(r, rel)
	} else if t, ok := jumpTarget(r, slot, nil); ok {
		if l, ok := labels[t]; ok {
			if i := strings.LastIndex(text, "pc"); i >= 0 {
				text = text[:i] + l
			}
		}
	}
	if text != "" {
		if p, err := asm.ParseInstruction(text); err == nil && p.Ref == wantRef && p.RefName == wantName {
			got := p.Raw
			if p.Target != "" {
				t, _ := jumpTarget(r, slot, nil)
				if p.Target == labels[t] {
					got.Off, got.Imm = r.Off, r.Imm
				}
			}
			if wantRef != asm.RefNone {
				// the assembler fills these in from the symbol
				got.Imm, got.Src = r.Imm, r.Src
				if ok := d.refImmMatches(r, rel, p); ok && got == r {
					return text
				}
			} else if got == r {
				return text
			}
		}
	}
	d.fallbacks++
	out := ".insn " + asm.HexBytes(r.BytesOrder(d.bo))
	if rel.Type != "" {
		out += " rel " + d.relocSymbolName(rel)
	}
	return out + " // " + strings.TrimSpace(asm.Format(r, nil)[5:])
}

// refImmMatches checks that the assembler, given the reference text p,
// writes the immediate and source register the object has.
func (d *dumper) refImmMatches(r asm.Raw, rel elfobj.Reloc, p asm.Parsed) bool {
	sym := d.syms[int(rel.SymbolIndex)]
	if sym == nil {
		return false
	}
	switch p.Ref {
	case asm.RefMap, asm.RefExtern:
		return r.Src == 0 && r.Imm == p.Raw.Imm && r.Imm2 == 0
	case asm.RefFunc:
		return r.Src == 0 && r.Imm2 == 0
	case asm.RefCall:
		return r.Src == 1
	}
	return false
}

func (d *dumper) relocSymbolName(rel elfobj.Reloc) string {
	if s := d.syms[int(rel.SymbolIndex)]; s != nil {
		return quoteName(s.Name)
	}
	return rel.Symbol
}

// relocText writes an instruction with a relocation: a reference by name.
func (d *dumper) relocText(r asm.Raw, rel elfobj.Reloc) (string, asm.RefKind, string) {
	sym := d.syms[int(rel.SymbolIndex)]
	if sym == nil {
		return "", 0, ""
	}
	secOf := func(s *elfobj.Symbol) *elfobj.Section {
		if s.SectionIndex == shnUndef || s.SectionIndex >= shnLoReserve || int(s.SectionIndex) >= len(d.f.Sections) {
			return nil
		}
		return &d.f.Sections[s.SectionIndex]
	}
	sec := secOf(sym)
	isCode := sec != nil && sec.FlagsNum&shfExec != 0
	switch {
	case rel.TypeNum == rBPF64_64 && r.Wide:
		plus := ""
		if r.Imm != 0 {
			plus = fmt.Sprintf("%+d", r.Imm)
		}
		switch {
		case sym.Type == "SECTION" && isCode:
			if f := d.funcAt(int(sym.SectionIndex), uint64(uint32(r.Imm))); f != nil && f.Bind == "LOCAL" {
				return fmt.Sprintf("r%d = func[%s]", r.Dst, f.Name), asm.RefFunc, f.Name
			}
		case isCode:
			if r.Imm == 0 && sym.Bind != "LOCAL" {
				return fmt.Sprintf("r%d = func[%s]", r.Dst, sym.Name), asm.RefFunc, sym.Name
			}
		case sec == nil:
			return fmt.Sprintf("r%d = extern[%s]%s", r.Dst, sym.Name, plus), asm.RefExtern, sym.Name
		}
		return fmt.Sprintf("r%d = map[%s]%s", r.Dst, sym.Name, plus), asm.RefMap, sym.Name
	case rel.TypeNum == rBPF64_32 && r.Code == 0x85:
		if sym.Type == "SECTION" && isCode {
			target := sym.Value/8 + uint64(int64(r.Imm)+1)
			if f := d.funcAt(int(sym.SectionIndex), target*8); f != nil && f.Bind == "LOCAL" {
				return "call " + f.Name, asm.RefCall, f.Name
			}
			return "", 0, ""
		}
		if r.Imm == -1 && (sec == nil || (isCode && sym.Bind != "LOCAL")) {
			return "call " + sym.Name, asm.RefCall, sym.Name
		}
	}
	return "", 0, ""
}

func (d *dumper) funcAt(sec int, off uint64) *elfobj.Symbol {
	for i := range d.f.Symbols {
		s := &d.f.Symbols[i]
		if int(s.SectionIndex) == sec && s.Type == "FUNC" && s.Value == off {
			return s
		}
	}
	return nil
}

// data writes a data section: its variables, bytes and pointers.
func (d *dumper) data(sec int) {
	s := &d.f.Sections[sec]
	nobits := s.TypeNum == shtNobits
	kind := ""
	if nobits {
		kind = " nobits"
	}
	fmt.Fprintf(&d.b, "\n.section %s%s\n", quoteName(s.Name), kind)
	vars := d.symbolsAt(sec, "OBJECT", "NOTYPE")
	cuts := []uint64{0, s.Size}
	for off := range vars {
		cuts = append(cuts, off)
	}
	relocs := d.relocs[sec]
	for off := range relocs {
		cuts = append(cuts, off, off+8)
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i] < cuts[j] })
	uniq := cuts[:1]
	for _, c := range cuts[1:] {
		if c != uniq[len(uniq)-1] {
			uniq = append(uniq, c)
		}
	}
	cuts = uniq
	data := d.f.SectionBytes(sec)
	for i := 0; i < len(cuts); i++ {
		start, end := cuts[i], s.Size
		if i+1 < len(cuts) {
			end = cuts[i+1]
		}
		for _, v := range vars[start] {
			fmt.Fprintf(&d.b, ".var %s%s size=%d%s\n", quoteName(v.Name), bindWord(v, false), v.Size, d.describe(s.Name, v.Name))
		}
		if start >= end || end > s.Size {
			continue
		}
		if rel, ok := relocs[start]; ok && end-start == 8 && !nobits && int(end) <= len(data) {
			addend := int64(d.bo.Uint64(data[start:end]))
			plus := ""
			if addend != 0 {
				plus = fmt.Sprintf("%+d", addend)
			}
			fmt.Fprintf(&d.b, "\t.ptr %s%s\n", d.relocSymbolName(rel), plus)
			continue
		}
		if nobits || allZero(data[start:end]) {
			fmt.Fprintf(&d.b, "\t.zero %d\n", end-start)
			continue
		}
		chunk := data[start:end]
		if isText(chunk) {
			fmt.Fprintf(&d.b, "\t.ascii %q\n", chunk)
			continue
		}
		for len(chunk) > 0 {
			n := min(16, len(chunk))
			fmt.Fprintf(&d.b, "\t.bytes %s\n", asm.HexBytes(chunk[:n]))
			chunk = chunk[n:]
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// isText: printable characters ending in NUL, like a license string.
func isText(b []byte) bool {
	if len(b) < 2 || b[len(b)-1] != 0 {
		return false
	}
	for _, c := range b[:len(b)-1] {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// describe says in a comment what a variable is: a map's definition, or
// a global's type and initial value.
func (d *dumper) describe(section, name string) string {
	for _, m := range d.f.Maps {
		if m.Name != name || m.Section != section {
			continue
		}
		kv := func(size uint32, typ string) string {
			if typ != "" {
				return fmt.Sprintf("%s (%dB)", typ, size)
			}
			return fmt.Sprintf("%dB", size)
		}
		out := fmt.Sprintf("   // map: %s, key %s, value %s, max_entries %d", m.Type, kv(m.KeySize, m.KeyType), kv(m.ValueSize, m.ValueType), m.MaxEntries)
		if m.Flags != 0 {
			out += fmt.Sprintf(", flags %#x", m.Flags)
		}
		if m.Pinning != "" && m.Pinning != "none" {
			out += ", pinning " + m.Pinning
		}
		if m.InnerMap != "" {
			out += ", inner map " + m.InnerMap
		}
		return out
	}
	for _, g := range d.f.Globals {
		if g.Name == name && g.Section == section && g.Type != "" {
			return strings.ReplaceAll(fmt.Sprintf("   // %s %s = %s", g.Type, g.Name, g.Value), "\n", " ")
		}
	}
	return ""
}
