package assembler

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/btf"
)

// finish resolves labels and symbols, then writes the ELF object.
func (a *assembler) finish() ([]byte, error) {
	var types []btf.Type
	if a.hasBTF {
		var err error
		types, err = btf.ParseRaw(a.btfLines)
		if err != nil {
			var re *btf.RawError
			if errors.As(err, &re) {
				return nil, a.errorf(a.btfLine+1+re.Line, re.Col, "%s", re.Msg)
			}
			return nil, a.errorf(a.btfLine, 1, "%v", err)
		}
	}
	synth := !a.hasBTF && (len(a.maps) > 0 || a.sourced)
	if a.hasBTF || synth {
		var err error
		if types, err = a.synthesize(types); err != nil {
			return nil, err
		}
	}
	funcIDs := map[string]btf.TypeID{}
	for i := range types {
		if types[i].Kind == btf.KindFunc {
			if _, ok := funcIDs[types[i].Name]; !ok {
				funcIDs[types[i].Name] = btf.TypeID(i + 1)
			}
		}
	}
	// Sizes of functions and unsized variables: up to the next symbol of
	// their kind in the section, or its end.
	for _, sym := range a.order {
		if sym.sec == nil || sym.sized {
			continue
		}
		end := uint64(len(sym.sec.data))
		for _, o := range a.order {
			if o.sec == sym.sec && o.isFunc == sym.isFunc && o.value > sym.value && o.value < end {
				end = o.value
			}
		}
		sym.size = end - sym.value
	}
	for _, s := range a.sections {
		if !s.code {
			continue
		}
		s.ext.Name = s.name
		for _, in := range s.insns {
			if err := a.resolve(s, in); err != nil {
				return nil, err
			}
			off := uint32(in.slot * 8)
			for _, c := range in.core {
				c.InsnOff = off
				s.ext.Relos = append(s.ext.Relos, c)
			}
			for _, l := range in.src {
				l.InsnOff = off
				s.ext.Lines = append(s.ext.Lines, l)
			}
			copy(s.data[in.slot*8:], in.p.Raw.BytesOrder(a.bo))
		}
		if len(types) == 0 {
			s.ext.Lines, s.ext.Relos = nil, nil
		}
		for _, sym := range a.order {
			if sym.sec == s && sym.isFunc {
				if id, ok := funcIDs[sym.name]; ok {
					s.ext.Funcs = append(s.ext.Funcs, btf.FuncInfo{InsnOff: uint32(sym.value), TypeID: id})
				}
			}
		}
		sort.SliceStable(s.ext.Funcs, func(i, j int) bool { return s.ext.Funcs[i].InsnOff < s.ext.Funcs[j].InsnOff })
	}
	// cilium/ebpf wants line info wherever there is func info: a file
	// without ";" lines gets one record per function, its .func line.
	lines := 0
	for _, s := range a.sections {
		lines += len(s.ext.Lines)
	}
	if lines == 0 {
		for _, sym := range a.order {
			if sym.isFunc && sym.sec != nil && len(sym.sec.ext.Funcs) > 0 {
				s := sym.sec
				s.ext.Lines = append(s.ext.Lines, btf.LineInfo{InsnOff: uint32(sym.value), File: a.file, Text: ".func " + sym.name, Line: uint32(sym.line)})
				sort.SliceStable(s.ext.Lines, func(i, j int) bool { return s.ext.Lines[i].InsnOff < s.ext.Lines[j].InsnOff })
			}
		}
	}
	for _, s := range a.sections {
		for _, r := range s.relocs {
			if r.typ == rBPF64Abs64 && a.syms[r.sym] == nil && a.byName[r.sym] == nil {
				return nil, a.errorf(r.line, r.col, "undefined symbol %s", r.sym)
			}
		}
	}
	return a.writeELF(types)
}

// resolve fills in an instruction's jump target and symbol reference.
func (a *assembler) resolve(s *section, in *insn) error {
	p := &in.p
	r := &p.Raw
	if p.Target != "" {
		t, ok := s.labels[p.Target]
		if !ok {
			return a.errorf(in.line, in.col+p.TargetCol, "undefined label %s", p.Target)
		}
		rel := int64(t - in.slot - 1)
		switch {
		case r.Code == 0x06 || r.Code == 0x85: // gotol, call
			r.Imm = int32(rel)
		default:
			if rel < -1<<15 || rel >= 1<<15 {
				return a.errorf(in.line, in.col+p.TargetCol, "label %s is %d instructions away, more than a 16-bit jump reaches: use gotol", p.Target, rel)
			}
			r.Off = int16(rel)
		}
	}
	if in.rel != "" {
		typ := uint32(rBPF64_32)
		if r.Wide {
			typ = rBPF64_64
		}
		if a.syms[in.rel] == nil && a.byName[in.rel] == nil {
			return a.errorf(in.line, in.col+1, "undefined symbol %s", in.rel)
		}
		s.relocs = append(s.relocs, reloc{off: uint64(in.slot * 8), sym: in.rel, typ: typ})
		return nil
	}
	if p.Ref == asm.RefNone {
		return nil
	}
	col := in.col + p.RefCol
	name := p.RefName
	sym := a.syms[name]
	add := func(symName string, typ uint32) {
		s.relocs = append(s.relocs, reloc{off: uint64(in.slot * 8), sym: symName, typ: typ, line: in.line, col: col})
	}
	switch p.Ref {
	case asm.RefCall:
		if sym == nil {
			if t, ok := s.labels[name]; ok {
				r.Imm = int32(t - in.slot - 1)
				return nil
			}
			return a.errorf(in.line, col, "unknown helper, function or label %s", name)
		}
		switch {
		case sym.sec == nil: // a kfunc
			r.Imm = -1
			add(name, rBPF64_32)
		case !sym.isFunc:
			return a.errorf(in.line, col, "%s is not a function", name)
		case sym.bind == 0:
			r.Imm = int32(sym.value/8) - 1
			add(sym.sec.name, rBPF64_32)
		default:
			r.Imm = -1
			add(name, rBPF64_32)
		}
	case asm.RefFunc:
		if sym == nil || !sym.isFunc {
			return a.errorf(in.line, col, "undefined function %s", name)
		}
		if sym.bind == 0 {
			r.Imm = int32(sym.value)
			add(sym.sec.name, rBPF64_64)
		} else {
			add(name, rBPF64_64)
		}
	case asm.RefExtern:
		if sym == nil || sym.sec != nil {
			return a.errorf(in.line, col, "undefined extern %s: declare it with .extern %s", name, name)
		}
		add(name, rBPF64_64)
	case asm.RefMap:
		if sym == nil {
			if a.byName[name] == nil {
				return a.errorf(in.line, col, "undefined map, variable or section %s", name)
			}
		} else if sym.isFunc {
			return a.errorf(in.line, col, "%s is a function: use func[%s]", name, name)
		}
		add(name, rBPF64_64)
	}
	return nil
}

type elfSection struct {
	name                 string
	typ                  uint32
	flags                uint64
	data                 []byte
	size                 uint64
	link, info           uint32
	align, entsize       uint64
	nameOff              uint32
	relFor, symForIndexs int
}

// writeELF lays out the object as clang does: the sections in the order
// of the file, each followed by its relocations, then .BTF, .BTF.ext,
// .symtab and .strtab (which also names the sections).
func (a *assembler) writeELF(types []btf.Type) ([]byte, error) {
	le := a.bo
	strtab := []byte{0}
	strOff := map[string]uint32{"": 0}
	addStr := func(s string) uint32 {
		if o, ok := strOff[s]; ok {
			return o
		}
		o := uint32(len(strtab))
		strtab = append(append(strtab, s...), 0)
		strOff[s] = o
		return o
	}
	secs := []*elfSection{{}}
	index := map[*section]int{}
	for _, s := range a.sections {
		es := &elfSection{name: s.name, typ: shtProgbits, data: s.data, size: uint64(len(s.data)), align: 8}
		switch {
		case s.code:
			es.flags = shfAlloc | shfExec
		case s.nobits:
			es.typ, es.flags, es.data = shtNobits, shfAlloc|shfWrite, nil
		case strings.HasPrefix(s.name, ".rodata"):
			es.flags = shfAlloc
		default:
			es.flags = shfAlloc | shfWrite
		}
		if s.name == "license" || s.name == "version" {
			es.align = 1
		}
		secs = append(secs, es)
	}
	next := 1
	for _, s := range a.sections {
		index[s] = next
		next++
		if len(s.relocs) > 0 {
			next++
		}
	}
	// Symbols: null, a section symbol per section, locals, then the rest.
	type elfSym struct {
		name       string
		info, vis  uint8
		shndx      uint16
		value, siz uint64
	}
	syms := []elfSym{{}}
	symIndex := map[string]int{}
	for _, s := range a.sections {
		symIndex["\x00"+s.name] = len(syms)
		syms = append(syms, elfSym{info: 3, shndx: uint16(index[s])})
	}
	ordered := append([]*symbol(nil), a.order...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].bind == 0 && ordered[j].bind != 0 })
	firstGlobal := len(syms)
	for _, sym := range ordered {
		if sym.bind == 0 {
			firstGlobal++
		}
	}
	for _, sym := range ordered {
		typ := uint8(0)
		switch {
		case sym.isFunc:
			typ = 2
		case sym.sec != nil:
			typ = 1
		}
		var shndx uint16
		if sym.sec != nil {
			shndx = uint16(index[sym.sec])
		}
		vis := uint8(0)
		if sym.hidden {
			vis = 2
		}
		symIndex[sym.name] = len(syms)
		syms = append(syms, elfSym{name: sym.name, info: sym.bind<<4 | typ, vis: vis, shndx: shndx, value: sym.value, siz: sym.size})
	}
	symOf := func(name string) uint32 {
		if i, ok := symIndex[name]; ok {
			return uint32(i)
		}
		if s := a.byName[name]; s != nil {
			return uint32(symIndex["\x00"+name])
		}
		return 0
	}
	// Relocation sections right after their targets.
	var withRel []*elfSection
	for i, es := range secs {
		withRel = append(withRel, es)
		if i == 0 {
			continue
		}
		s := a.sections[i-1]
		if len(s.relocs) == 0 {
			continue
		}
		sort.SliceStable(s.relocs, func(x, y int) bool { return s.relocs[x].off < s.relocs[y].off })
		var b []byte
		for _, r := range s.relocs {
			b = le.AppendUint64(b, r.off)
			b = le.AppendUint64(b, uint64(symOf(r.sym))<<32|uint64(r.typ))
		}
		withRel = append(withRel, &elfSection{name: ".rel" + s.name, typ: 9, flags: 0x40, data: b, size: uint64(len(b)), align: 8, entsize: 16, relFor: len(withRel) - 1})
	}
	secs = withRel
	if len(types) > 0 {
		st := btf.NewStringTable()
		var exts []*btf.ExtSection
		for _, s := range a.sections {
			if s.code && (len(s.ext.Funcs)+len(s.ext.Lines)+len(s.ext.Relos) > 0) {
				exts = append(exts, &s.ext)
			}
		}
		ext, err := btf.MarshalExt(exts, st)
		if err != nil {
			return nil, err
		}
		blob, err := btf.Marshal(types, st)
		if err != nil {
			return nil, a.errorf(a.btfLine, 1, "%v", err)
		}
		if a.bo == binary.BigEndian {
			if blob, err = btf.BigEndianBTF(blob); err != nil {
				return nil, err
			}
			if ext, err = btf.BigEndianExt(ext); err != nil {
				return nil, err
			}
		}
		secs = append(secs, &elfSection{name: ".BTF", typ: shtProgbits, data: blob, size: uint64(len(blob)), align: 4})
		if len(exts) > 0 {
			secs = append(secs, &elfSection{name: ".BTF.ext", typ: shtProgbits, data: ext, size: uint64(len(ext)), align: 4})
		}
	}
	symtabIdx := len(secs)
	strtabIdx := symtabIdx + 1
	for _, es := range secs {
		if es.typ == 9 {
			es.link, es.info = uint32(symtabIdx), uint32(es.relFor)
		}
	}
	var symData []byte
	for _, s := range syms {
		symData = le.AppendUint32(symData, addStr(s.name))
		symData = append(symData, s.info, s.vis)
		symData = le.AppendUint16(symData, s.shndx)
		symData = le.AppendUint64(symData, s.value)
		symData = le.AppendUint64(symData, s.siz)
	}
	secs = append(secs, &elfSection{name: ".symtab", typ: 2, data: symData, size: uint64(len(symData)), link: uint32(strtabIdx), info: uint32(firstGlobal), align: 8, entsize: 24})
	secs = append(secs, &elfSection{name: ".strtab", typ: 3, align: 1})
	for _, es := range secs[1:] {
		es.nameOff = addStr(es.name)
	}
	strtabSec := secs[strtabIdx]
	strtabSec.data, strtabSec.size = strtab, uint64(len(strtab))

	// Layout: header, section data, section headers.
	out := make([]byte, 64)
	offs := make([]uint64, len(secs))
	for i, es := range secs[1:] {
		for es.align > 1 && uint64(len(out))%es.align != 0 {
			out = append(out, 0)
		}
		offs[i+1] = uint64(len(out))
		out = append(out, es.data...)
	}
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	shoff := uint64(len(out))
	for i, es := range secs {
		out = le.AppendUint32(out, es.nameOff)
		out = le.AppendUint32(out, es.typ)
		out = le.AppendUint64(out, es.flags)
		out = le.AppendUint64(out, 0)
		out = le.AppendUint64(out, offs[i])
		out = le.AppendUint64(out, es.size)
		out = le.AppendUint32(out, es.link)
		out = le.AppendUint32(out, es.info)
		out = le.AppendUint64(out, es.align)
		out = le.AppendUint64(out, es.entsize)
	}
	if len(secs) > shnLoReserve {
		return nil, fmt.Errorf("%s: %d sections, more than ELF allows", a.file, len(secs))
	}
	h := out[:64]
	copy(h, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	if a.bo == binary.BigEndian {
		h[5] = 2 // ELFDATA2MSB
	}
	le.PutUint16(h[16:], 1)   // ET_REL
	le.PutUint16(h[18:], 247) // EM_BPF
	le.PutUint32(h[20:], 1)
	le.PutUint64(h[40:], shoff)
	le.PutUint16(h[52:], 64)
	le.PutUint16(h[58:], 64)
	le.PutUint16(h[60:], uint16(len(secs)))
	le.PutUint16(h[62:], uint16(strtabIdx))
	return out, nil
}
