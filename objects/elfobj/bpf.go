package elfobj

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// Program is a function in an executable section: a program (its
// section gives its type) or a subprogram (in .text, called by programs).
type Program struct {
	Name       string `json:"name"`
	Section    string `json:"section"`
	Subprogram bool   `json:"subprogram"`
	// Type is libbpf's program type name, from the section name.
	Type       string `json:"type,omitempty"`
	AttachType string `json:"attach_type,omitempty"`
	AttachTo   string `json:"attach_to,omitempty"`
	Offset     uint64 `json:"offset"`
	Size       uint64 `json:"size"`
	// Insns counts instructions as llvm-objdump does (a 16-byte
	// ld_imm64 is one instruction).
	Insns   int      `json:"insns"`
	License string   `json:"license,omitempty"`
	Maps    []string `json:"maps"`
	Calls   []string `json:"calls"`
	// Return is set for return probes (kretprobe, uretprobe, kretsyscall):
	// the program type is kprobe either way, the section name tells.
	Return bool `json:"return,omitempty"`
	// Source is the C file named by the program's first BTF line info.
	Source string `json:"source,omitempty"`
	Line   uint32 `json:"line,omitempty"`

	sectionIndex int
}

// Map is a map definition (BTF-defined in .maps or legacy in maps), or
// a map the loader makes for global data (.rodata, .data, .bss, .kconfig).
type Map struct {
	Name       string   `json:"name"`
	Section    string   `json:"section"`
	Type       string   `json:"type"`
	KeySize    uint32   `json:"key_size"`
	ValueSize  uint32   `json:"value_size"`
	KeyType    string   `json:"key_type,omitempty"`
	ValueType  string   `json:"value_type,omitempty"`
	MaxEntries uint32   `json:"max_entries"`
	Flags      uint32   `json:"flags"`
	Pinning    string   `json:"pinning"`
	InnerMap   string   `json:"inner_map,omitempty"`
	Contents   []string `json:"contents,omitempty"`
}

// Global is a global variable in .rodata, .data, .bss or .kconfig.
type Global struct {
	Name     string `json:"name"`
	Section  string `json:"section"`
	Offset   uint32 `json:"offset"`
	Size     uint32 `json:"size"`
	Type     string `json:"type,omitempty"`
	Constant bool   `json:"constant"`
	// Value is the initial value, formatted by its BTF type; for .kconfig
	// externs it says that the loader fills it in.
	Value string `json:"value"`
}

// ErrDamagedBTF is wrapped by the errors of objects whose .BTF section
// bpfkit's BTF parser refuses, or that made cilium/ebpf panic.
var ErrDamagedBTF = errors.New("the object's BTF is damaged")

// loadSpec reads the object as cilium/ebpf does, after bpfkit's own BTF
// parser checked its .BTF section: cilium/ebpf v0.22 panics on some
// damaged BTF (a member whose type is out of range, reached through a
// cycle), and a panic it still has is recovered here.
func (f *File) loadSpec() (spec *ebpf.CollectionSpec, err error) {
	if i := f.sectionByName(".BTF"); i > 0 {
		if _, err := btf.Parse(f.sectionData(i), nil); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDamagedBTF, err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			spec, err = nil, fmt.Errorf("%w: cilium/ebpf failed reading it: %v", ErrDamagedBTF, r)
		}
	}()
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(f.data))
}

// interpret fills in everything that is BPF meaning rather than ELF
// structure. It never fails: what cannot be interpreted is left out and
// the reason is kept in BPFError.
func (f *File) interpret() {
	f.buildIndex()
	var spec *ebpf.CollectionSpec
	switch why := f.specTooLarge(); {
	case why != "":
		f.BPFError = why
	case f.symtab < 0:
		f.BPFError = "no symbol table"
	default:
		s, err := f.loadSpec()
		if err != nil {
			f.BPFError = err.Error()
		} else {
			spec = s
		}
	}
	f.spec = spec
	if i := f.sectionByName("license"); i > 0 {
		f.License = cString(f.sectionData(i))
	}
	f.explainRelocations(spec)
	f.findPrograms(spec)
	f.findMaps(spec)
	f.findGlobals(spec)
	f.describeSections()
}

func (f *File) isExec(i uint16) bool {
	return int(i) < len(f.Sections) && i > 0 && f.Sections[i].FlagsNum&shfExecInstr != 0 &&
		f.Sections[i].TypeNum == shtProgbits
}

func isMapsSection(name string) bool { return name == ".maps" || name == "maps" }

// isDataSection reports whether a section holds global variables.
func isDataSection(name string) bool {
	for _, p := range []string{".rodata", ".data", ".bss"} {
		if name == p || strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// countInsns counts instructions in code the way llvm-objdump does.
func countInsns(code []byte) int {
	n := 0
	for off := 0; off+bpfInsnSize <= len(code); n++ {
		if code[off] == bpfLdImm64 && off+2*bpfInsnSize <= len(code) {
			off += 2 * bpfInsnSize
		} else {
			off += bpfInsnSize
		}
	}
	return n
}

func (f *File) findPrograms(spec *ebpf.CollectionSpec) {
	f.Programs = []Program{}
	var subprogs map[string]ebpfasm.Instructions
	f.insnRefs = map[*ebpfasm.Instruction]insnRefs{}
	if spec != nil {
		subprogs = subprogramIndex(spec)
	}
	// Instructions are counted once per byte of code: overlapping
	// function symbols (only a hostile file has them) are not counted.
	budget := uint64(len(f.data))
	for _, sym := range f.Symbols {
		if sym.info&0xf != stFunc || !f.isExec(sym.SectionIndex) {
			continue
		}
		sec := &f.Sections[sym.SectionIndex]
		p := Program{
			Name:       sym.Name,
			Section:    sec.Name,
			Subprogram: sec.Name == ".text",
			Offset:     sym.Value,
			Size:       sym.Size,
			Maps:       []string{},
			Calls:      []string{},

			sectionIndex: int(sym.SectionIndex),
		}
		code := f.sectionData(int(sym.SectionIndex))
		if sym.Value <= uint64(len(code)) && sym.Size <= uint64(len(code))-sym.Value && sym.Size <= budget {
			budget -= sym.Size
			p.Insns = countInsns(code[sym.Value : sym.Value+sym.Size])
		}
		if spec != nil {
			if ps := spec.Programs[sym.Name]; ps != nil {
				f.describeProgram(&p, ps, spec)
			} else if insns := subprogs[sym.Name]; insns != nil {
				f.describeProgram(&p, &ebpf.ProgramSpec{Name: sym.Name, Instructions: insns}, spec)
			}
		}
		p.Return = isReturnProbe(sec.Name)
		if p.Type == "" && !p.Subprogram {
			// cilium/ebpf could not tell: go by the section name.
			p.Type, p.AttachType, p.AttachTo, _ = sectionProgType(sec.Name)
			p.License = f.License
			p.Maps = f.mapsFromRelocations(&p)
			p.Calls = f.directCalls(&p)
		}
		f.Programs = append(f.Programs, p)
	}
	sort.SliceStable(f.Programs, func(i, j int) bool {
		a, b := f.Programs[i], f.Programs[j]
		if a.sectionIndex != b.sectionIndex {
			return a.sectionIndex < b.sectionIndex
		}
		return a.Offset < b.Offset
	})
}

func (f *File) describeProgram(p *Program, ps *ebpf.ProgramSpec, spec *ebpf.CollectionSpec) {
	if !p.Subprogram {
		p.Type = objects.ProgTypeName(ps.Type).String()
		if ps.AttachType != 0 || ps.Type == ebpf.CGroupSKB {
			p.AttachType = objects.AttachTypeName(ps.AttachType).String()
		}
		p.AttachTo = ps.AttachTo
		p.License = ps.License
	}
	if len(ps.Instructions) > 0 {
		// Symbols may share a name (and so a spec): walk each once.
		key := &ps.Instructions[0]
		r, ok := f.insnRefs[key]
		if !ok {
			r = insnRefsOf(ps.Name, ps.Instructions, spec)
			f.insnRefs[key] = r
		}
		p.Source, p.Line, p.Calls, p.Maps = r.source, r.line, r.calls, r.maps
	}
	// A subprogram appears once as its own spec; programs carry the
	// subprograms they call, so keep only direct calls for those.
	if !p.Subprogram {
		p.Calls = f.directCalls(p)
	}
}

// insnRefs is what a function's instructions use, and where they start.
type insnRefs struct {
	source      string
	line        uint32
	calls, maps []string
}

func insnRefsOf(name string, insns ebpfasm.Instructions, spec *ebpf.CollectionSpec) insnRefs {
	var r insnRefs
	if l, ok := insns[0].Source().(*ebpfbtf.Line); ok {
		r.source, r.line = l.FileName(), l.LineNumber()
	}
	seen := map[string]bool{}
	calls, maps := newStringSet(), newStringSet()
	for _, ins := range insns {
		ref := ins.Reference()
		if ref == "" || seen[ref] {
			continue
		}
		switch {
		case ins.IsFunctionReference() || ins.IsFunctionCall():
			seen[ref] = true
			if ref != name {
				calls.add(ref)
			}
		case ins.OpCode.IsDWordLoad() && spec.Maps[ref] != nil:
			seen[ref] = true
			maps.add(ref)
		}
	}
	r.calls, r.maps = calls.list, maps.list
	return r
}

// mapsFromRelocations lists the maps a function's own code loads, from
// the relocations inside it.
func (f *File) mapsFromRelocations(p *Program) []string {
	maps := newStringSet()
	f.relocsIn(f.programSection(p), p.Offset, p.Offset+p.Size, func(r Reloc) {
		if name, ok := strings.CutPrefix(r.RefersTo, "map "); ok {
			maps.add(name)
		}
	})
	return maps.list
}

// directCalls lists the functions a program's own code calls, in order.
func (f *File) directCalls(p *Program) []string {
	calls := newStringSet()
	sec := f.programSection(p)
	f.relocsIn(sec, p.Offset, p.Offset+p.Size, func(r Reloc) {
		if name, ok := f.callTarget(int(sec), r); ok {
			calls.add(name)
		}
	})
	return calls.list
}

func (f *File) programSection(p *Program) uint32 {
	return uint32(p.sectionIndex)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// insnImm reads the imm field of the instruction at off in section sec.
func (f *File) insnImm(sec int, off uint64) (op byte, imm int32, ok bool) {
	code := f.sectionData(sec)
	if off > uint64(len(code)) || uint64(len(code))-off < bpfInsnSize {
		return 0, 0, false
	}
	return code[off], int32(f.order.Uint32(code[off+4:])), true
}

// callTarget resolves a relocated call (or function pointer) to the
// function it reaches.
func (f *File) callTarget(sec int, r Reloc) (string, bool) {
	if r.SymbolIndex == 0 || int(r.SymbolIndex) >= len(f.Symbols) {
		return "", false
	}
	sym := f.Symbols[r.SymbolIndex]
	if !f.isExec(sym.SectionIndex) {
		return "", false
	}
	if sym.info&0xf == stFunc {
		return sym.Name, true
	}
	op, imm, ok := f.insnImm(sec, r.Offset)
	if !ok {
		return "", false
	}
	target := int64(sym.Value)
	if op == bpfCallOpcode {
		target += (int64(imm) + 1) * bpfInsnSize
	} else {
		target += int64(imm)
	}
	if s, ok := f.symbolAt(sym.SectionIndex, target, stFunc); ok {
		return s.Name, true
	}
	return fmt.Sprintf("%s+0x%x", sym.Name, target), true
}

func pinningName(p ebpf.PinType) string {
	switch p {
	case ebpf.PinNone:
		return "none"
	case ebpf.PinByName:
		return "by_name"
	}
	return fmt.Sprintf("%d", p)
}

func (f *File) findMaps(spec *ebpf.CollectionSpec) {
	f.Maps = []Map{}
	if spec == nil {
		// Without a spec, name the map symbols at least.
		for _, s := range f.Symbols {
			if s.SectionIndex > 0 && int(s.SectionIndex) < len(f.Sections) && s.info&0xf == stObject &&
				isMapsSection(f.Sections[s.SectionIndex].Name) {
				f.Maps = append(f.Maps, Map{Name: s.Name, Section: f.Sections[s.SectionIndex].Name, Pinning: "none"})
			}
		}
		return
	}
	mapSyms := map[string]Symbol{}
	for _, s := range f.Symbols {
		if s.info&0xf == stObject && s.SectionIndex > 0 && int(s.SectionIndex) < len(f.Sections) &&
			isMapsSection(f.Sections[s.SectionIndex].Name) {
			if _, dup := mapSyms[s.Name]; !dup {
				mapSyms[s.Name] = s
			}
		}
	}
	type keyed struct {
		sec int
		off uint64
		m   Map
	}
	var all []keyed
	for name, ms := range spec.Maps {
		// Declared maps first, in section order, then the maps the
		// loader makes for global data.
		k := keyed{sec: 2 * len(f.Sections), m: f.describeMap(name, ms)}
		if i := f.sectionByName(name); i > 0 {
			k.sec, k.m.Section = len(f.Sections)+i, name
		} else {
			if s, ok := mapSyms[name]; ok {
				k.sec, k.off = int(s.SectionIndex), s.Value
				k.m.Section = f.Sections[s.SectionIndex].Name
			}
		}
		if k.m.Section == "" && strings.HasPrefix(name, ".") {
			k.m.Section = name // .kconfig: a BTF datasec, not an ELF section
		}
		all = append(all, k)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.sec != b.sec {
			return a.sec < b.sec
		}
		if a.off != b.off {
			return a.off < b.off
		}
		return a.m.Name < b.m.Name
	})
	for _, k := range all {
		f.Maps = append(f.Maps, k.m)
	}
}

func (f *File) describeMap(name string, ms *ebpf.MapSpec) Map {
	m := Map{
		Name:       name,
		Type:       objects.MapTypeName(ms.Type).String(),
		KeySize:    ms.KeySize,
		ValueSize:  ms.ValueSize,
		MaxEntries: ms.MaxEntries,
		Flags:      ms.Flags,
		Pinning:    pinningName(ms.Pinning),
	}
	if _, void := ms.Key.(*ebpfbtf.Void); ms.Key != nil && !void {
		m.KeyType = cTypeName(ms.Key)
	}
	if ms.Value != nil {
		m.ValueType = cTypeName(ms.Value)
	}
	if in := ms.InnerMap; in != nil {
		m.InnerMap = fmt.Sprintf("%s key %d value %d max_entries %d", objects.MapTypeName(in.Type), in.KeySize, in.ValueSize, in.MaxEntries)
		if in.Name != "" {
			m.InnerMap = in.Name + ": " + m.InnerMap
		}
	}
	if ms.Type == ebpf.ArrayOfMaps || ms.Type == ebpf.HashOfMaps || ms.Type == ebpf.ProgramArray {
		for _, kv := range ms.Contents {
			if s, ok := kv.Value.(string); ok {
				m.Contents = append(m.Contents, fmt.Sprintf("%v: %s", kv.Key, s))
			}
		}
	}
	return m
}

func (f *File) findGlobals(spec *ebpf.CollectionSpec) {
	f.Globals = []Global{}
	if spec != nil {
		for name, v := range spec.Variables {
			g := Global{
				Name:     name,
				Section:  v.SectionName,
				Offset:   v.Offset,
				Size:     uint32(v.Size()),
				Constant: v.Constant(),
			}
			if v.Type != nil {
				g.Type = cTypeName(v.Type.Type)
				g.Value = formatValue(v.Type.Type, v.Value, f.order)
			} else {
				g.Value = fmt.Sprintf("% x", v.Value)
			}
			if v.SectionName == ".kconfig" {
				g.Value = "(set by the loader from the kernel config)"
			}
			f.Globals = append(f.Globals, g)
		}
		f.Globals = append(f.Globals, kconfigGlobals(spec)...)
	} else {
		for _, s := range f.Symbols {
			if s.info&0xf != stObject || s.SectionIndex == 0 || int(s.SectionIndex) >= len(f.Sections) {
				continue
			}
			sec := &f.Sections[s.SectionIndex]
			if !isDataSection(sec.Name) {
				continue
			}
			g := Global{Name: s.Name, Section: sec.Name, Offset: uint32(s.Value), Size: uint32(s.Size),
				Constant: strings.HasPrefix(sec.Name, ".rodata")}
			if b := f.sectionData(int(s.SectionIndex)); s.Value <= uint64(len(b)) && s.Size <= uint64(len(b))-s.Value && s.Size <= 64 {
				g.Value = fmt.Sprintf("% x", b[s.Value:s.Value+s.Size])
			}
			f.Globals = append(f.Globals, g)
		}
	}
	order := func(sec string) int {
		if i := f.sectionByName(sec); i > 0 {
			return i
		}
		return len(f.Sections)
	}
	sort.Slice(f.Globals, func(i, j int) bool {
		a, b := f.Globals[i], f.Globals[j]
		if a.Section != b.Section {
			return order(a.Section) < order(b.Section)
		}
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		return a.Name < b.Name
	})
}

// kconfigGlobals lists the __kconfig externs that cilium/ebpf does not
// list as variables: the .kconfig datasec in BTF names them.
func kconfigGlobals(spec *ebpf.CollectionSpec) []Global {
	var ds *ebpfbtf.Datasec
	if spec.Types == nil || spec.Types.TypeByName(".kconfig", &ds) != nil {
		return nil
	}
	var out []Global
	for _, v := range ds.Vars {
		vr, ok := v.Type.(*ebpfbtf.Var)
		if !ok || spec.Variables[vr.Name] != nil {
			continue
		}
		out = append(out, Global{
			Name: vr.Name, Section: ".kconfig", Offset: v.Offset, Size: v.Size,
			Type: cTypeName(vr.Type), Constant: true,
			Value: "(set by the loader from the kernel config)",
		})
	}
	return out
}

func (f *File) explainRelocations(spec *ebpf.CollectionSpec) {
	f.kconfig = map[string]bool{}
	if spec != nil {
		for name, v := range spec.Variables {
			if v.SectionName == ".kconfig" {
				f.kconfig[name] = true
			}
		}
		var ds *ebpfbtf.Datasec
		if spec.Types != nil && spec.Types.TypeByName(".kconfig", &ds) == nil {
			for _, v := range ds.Vars {
				if v.Type != nil {
					f.kconfig[v.Type.TypeName()] = true
				}
			}
		}
	}
	for ri := range f.Relocations {
		rs := &f.Relocations[ri]
		target := int(rs.TargetIndex)
		tname := rs.Target
		for j := range rs.Entries {
			r := &rs.Entries[j]
			r.RefersTo = f.relocMeaning(spec, target, tname, *r)
		}
	}
}

func (f *File) relocMeaning(spec *ebpf.CollectionSpec, target int, tname string, r Reloc) string {
	switch {
	case tname == ".BTF":
		return "BTF"
	case tname == ".BTF.ext":
		return "BTF.ext"
	case strings.HasPrefix(tname, ".debug"):
		return "DWARF"
	}
	if r.SymbolIndex == 0 {
		return ""
	}
	sym := f.Symbols[r.SymbolIndex]
	if sym.SectionIndex == 0 {
		if f.kconfig[sym.Name] {
			return "kconfig " + sym.Name
		}
		return "extern " + sym.Name
	}
	if sym.SectionIndex >= shnLoReserve || int(sym.SectionIndex) >= len(f.Sections) {
		return ""
	}
	symSec := f.Sections[sym.SectionIndex].Name
	if isMapsSection(tname) {
		// Initial values of maps of maps and program arrays.
		if f.isExec(sym.SectionIndex) {
			return "program " + sym.Name
		}
		return "inner map " + sym.Name
	}
	if f.isExec(sym.SectionIndex) {
		if name, ok := f.callTarget(target, r); ok {
			if r.TypeNum == 10 {
				return "call " + name
			}
			return "function " + name
		}
		return ""
	}
	if !f.isExec(uint16(target)) {
		return "pointer to " + sym.Name
	}
	off := int64(sym.Value)
	if _, imm, ok := f.insnImm(target, r.Offset); ok && sym.info&0xf == stSection {
		off += int64(imm)
	}
	if isMapsSection(symSec) {
		if s, ok := f.symbolAt(sym.SectionIndex, off, stObject); ok {
			return "map " + s.Name
		}
		return "map " + sym.Name
	}
	if isDataSection(symSec) {
		desc := fmt.Sprintf("global %s+0x%x", symSec, off)
		obj := sym
		if sym.info&0xf == stSection {
			if o, ok := f.symbolAt(sym.SectionIndex, off, stObject); ok {
				obj = o
			}
		}
		if obj.info&0xf != stSection {
			desc = "global " + obj.Name
		}
		// Name the string a relocation points at (a bpf_printk format),
		// when a string fills the object or no object covers it.
		if b := f.sectionData(int(sym.SectionIndex)); off >= 0 && off < int64(len(b)) {
			if s, n, ok := printableString(b[off:]); ok && (obj.info&0xf == stSection || uint64(n+1) == obj.Size) {
				desc += " " + s
			}
		}
		return desc
	}
	return "symbol " + sym.Name
}

// printableString quotes a NUL-terminated printable string (a bpf_printk
// format, say) found at the start of b, and gives its length.
func printableString(b []byte) (string, int, bool) {
	i := bytes.IndexByte(b, 0)
	if i <= 0 || i > 256 {
		return "", 0, false
	}
	for _, c := range b[:i] {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\t' {
			return "", 0, false
		}
	}
	return fmt.Sprintf("%q", b[:i]), i, true
}

// sectionContents groups what the listings found by section, for the
// BPF column.
type sectionContents struct {
	programs map[int][]int       // section index -> f.Programs indexes
	maps     map[string][]string // section name -> map names
	globals  map[string][]string // section name -> global names
}

func (f *File) describeSections() {
	c := sectionContents{programs: map[int][]int{}, maps: map[string][]string{}, globals: map[string][]string{}}
	for i, p := range f.Programs {
		c.programs[p.sectionIndex] = append(c.programs[p.sectionIndex], i)
	}
	for _, m := range f.Maps {
		c.maps[m.Section] = append(c.maps[m.Section], m.Name)
	}
	for _, g := range f.Globals {
		c.globals[g.Section] = append(c.globals[g.Section], g.Name)
	}
	for i := range f.Sections {
		s := &f.Sections[i]
		s.Kind, s.BPF = f.describeSection(i, &c)
	}
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

func (f *File) describeSection(i int, c *sectionContents) (kind, bpf string) {
	s := &f.Sections[i]
	name := s.Name
	switch {
	case i == 0:
		return "null", ""
	case f.isExec(uint16(i)):
		var parts []string
		var ptype string
		for _, pi := range c.programs[i] {
			p := &f.Programs[pi]
			parts = append(parts, fmt.Sprintf("%s (%s)", p.Name, plural(p.Insns, "insn")))
			if p.Type != "" && ptype == "" {
				ptype = p.Type
				if p.AttachType != "" && p.AttachType != p.Type {
					ptype += " " + p.AttachType
				}
				if p.AttachTo != "" {
					ptype += " " + p.AttachTo
				}
				if p.Return {
					ptype += " (return)"
				}
			}
		}
		if s.Size == 0 {
			return "empty", "no code"
		}
		if name == ".text" {
			return "subprograms", "subprograms: " + strings.Join(parts, ", ")
		}
		if ptype == "" {
			ptype = "program"
		}
		return "program", ptype + ": " + strings.Join(parts, ", ")
	case isMapsSection(name):
		names := c.maps[name]
		prefix := "maps: "
		if name == "maps" {
			prefix = "legacy maps: "
		}
		return "maps", prefix + strings.Join(names, ", ")
	case name == "license":
		return "license", fmt.Sprintf("license %q", f.License)
	case name == "version":
		if b := f.sectionData(i); len(b) == 4 {
			v := f.order.Uint32(b)
			return "version", fmt.Sprintf("kernel version %d.%d.%d (0x%x)", v>>16, (v>>8)&0xff, v&0xff, v)
		}
		return "version", "kernel version (malformed)"
	case (name == ".BTF" || name == ".BTF.ext") && f.index.overlap:
		return "btf", "BTF: not read (sections overlap)"
	case name == ".BTF":
		n, err := btfTypeCount(f.sectionData(i))
		if err != nil {
			return "btf", "BTF: " + err.Error()
		}
		desc := "BTF: " + plural(n, "type")
		if kc := c.globals[".kconfig"]; len(kc) > 0 {
			// .kconfig exists only as a BTF datasec: its externs are here.
			desc += "; .kconfig externs: " + strings.Join(kc, ", ")
		}
		return "btf", desc
	case name == ".BTF.ext":
		c, err := btf.CountExt(f.sectionData(i))
		if err != nil {
			return "btf_ext", "BTF.ext: " + err.Error()
		}
		return "btf_ext", fmt.Sprintf("BTF.ext: %s, %s, %s", plural(c.FuncInfos, "func info"),
			plural(c.LineInfos, "line info"), plural(c.CoreRelos, "CO-RE relocation"))
	case isDataSection(name):
		names := c.globals[name]
		what := "globals"
		if strings.HasPrefix(name, ".rodata") {
			what = "read-only globals"
		}
		if len(names) == 0 {
			if strings.HasPrefix(name, ".rodata.str") || strings.HasPrefix(name, ".rodata") {
				return "data", fmt.Sprintf("read-only data, %d bytes (strings, constants)", s.Size)
			}
			return "data", fmt.Sprintf("data, %d bytes", s.Size)
		}
		return "data", what + ": " + strings.Join(names, ", ")
	case s.TypeNum == shtRel || s.TypeNum == shtRela:
		return "relocations", f.describeRelocs(i)
	case s.TypeNum == shtSymtab:
		return "symbols", "symbol table: " + plural(len(f.Symbols), "symbol")
	case s.TypeNum == shtStrtab:
		return "strings", "string table"
	case strings.HasPrefix(name, ".debug_"):
		return "debug", "DWARF debug info (not loaded)"
	case s.TypeNum == 0x6fff4c03:
		return "addrsig", "address-significance table (ignored by loaders)"
	}
	return "other", ""
}

func (f *File) describeRelocs(i int) string {
	if ri, ok := f.index.relocSection[i]; ok {
		rs := f.Relocations[ri]
		counts := map[string]int{}
		var order []string
		for _, r := range rs.Entries {
			kind, _, _ := strings.Cut(r.RefersTo, " ")
			if kind == "" {
				kind = "other"
			}
			if counts[kind] == 0 {
				order = append(order, kind)
			}
			counts[kind]++
		}
		var parts []string
		if len(order) > 8 {
			order = append(order[:8], "...")
		}
		for _, k := range order {
			switch k {
			case "map", "global", "call", "function", "kconfig", "extern", "program", "pointer":
				parts = append(parts, plural(counts[k], k))
			case "inner":
				parts = append(parts, plural(counts[k], "inner map"))
			case "...":
				parts = append(parts, "...")
			default:
				parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
			}
		}
		desc := "relocations for " + rs.Target
		if len(parts) > 0 {
			desc += ": " + strings.Join(parts, ", ")
		}
		return desc
	}
	return "relocations"
}
