package elfobj

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
)

// The interpretation looks things up by name, by offset and by section
// many times over. On a hostile file every count (sections, symbols,
// relocations) may be large at once, so each lookup goes through an index
// built once, and whole-file work stays near linear.

// Limits above which cilium/ebpf is not asked to interpret the object:
// real BPF objects stay far below them, and its loader copies section data
// and links programs in ways that are not linear in the file size.
const (
	maxSpecSections = 4096
	maxSpecSymbols  = 1 << 17
	maxSpecRelocs   = 1 << 19
)

type elfIndex struct {
	sectionByName map[string]int
	// funcs and objects list symbol numbers per section, by value.
	funcs, objects map[uint16][]int
	// relocs lists the relocations applying to each section, by offset.
	relocs map[uint32][]relocRef
	// relocSection maps a REL/RELA section index to f.Relocations.
	relocSection map[int]int
	// overlap is set when sections, functions or names share bytes (real
	// objects never do); per-section work is then skipped, as it would
	// repeat over the file.
	overlap bool
}

type relocRef struct {
	offset uint64
	rs, e  int
}

func (f *File) buildIndex() {
	x := &f.index
	x.sectionByName = make(map[string]int, len(f.Sections))
	var total uint64
	for i := len(f.Sections) - 1; i > 0; i-- {
		s := &f.Sections[i]
		x.sectionByName[s.Name] = i
		if s.TypeNum != shtNobits && s.TypeNum != shtNull {
			total += s.Size
		}
	}
	x.overlap = total > uint64(len(f.data))
	x.funcs = map[uint16][]int{}
	x.objects = map[uint16][]int{}
	var funcBytes, nameBytes uint64
	for i, s := range f.Symbols {
		// Names share a string table; their total only exceeds the
		// file when a hostile table makes them overlap.
		if nameBytes += uint64(len(s.Name)); nameBytes > uint64(len(f.data)) {
			x.overlap = true
		}
		switch s.info & 0xf {
		case stFunc:
			if funcBytes += s.Size; funcBytes > uint64(len(f.data)) {
				x.overlap = true
			}
			x.funcs[s.SectionIndex] = append(x.funcs[s.SectionIndex], i)
		case stObject:
			x.objects[s.SectionIndex] = append(x.objects[s.SectionIndex], i)
		}
	}
	for _, m := range []map[uint16][]int{x.funcs, x.objects} {
		for _, list := range m {
			sort.SliceStable(list, func(a, b int) bool { return f.Symbols[list[a]].Value < f.Symbols[list[b]].Value })
		}
	}
	x.relocs = map[uint32][]relocRef{}
	x.relocSection = map[int]int{}
	for ri, rs := range f.Relocations {
		x.relocSection[rs.Index] = ri
		for e, r := range rs.Entries {
			x.relocs[rs.TargetIndex] = append(x.relocs[rs.TargetIndex], relocRef{r.Offset, ri, e})
		}
	}
	for _, list := range x.relocs {
		sort.SliceStable(list, func(a, b int) bool { return list[a].offset < list[b].offset })
	}
}

// sectionByName is the first section with that name, or -1.
func (f *File) sectionByName(name string) int {
	if i, ok := f.index.sectionByName[name]; ok {
		return i
	}
	return -1
}

// specTooLarge says why cilium/ebpf is not asked, or "".
func (f *File) specTooLarge() string {
	n := 0
	for _, rs := range f.Relocations {
		n += len(rs.Entries)
	}
	switch {
	case f.index.overlap:
		return "sections, functions or names overlap (their sizes add up to more than the file)"
	case len(f.Sections) > maxSpecSections:
		return fmt.Sprintf("%d sections are too many to interpret", len(f.Sections))
	case len(f.Symbols) > maxSpecSymbols:
		return fmt.Sprintf("%d symbols are too many to interpret", len(f.Symbols))
	case n > maxSpecRelocs:
		return fmt.Sprintf("%d relocations are too many to interpret", n)
	}
	return ""
}

// symbolAt finds the symbol of the given type at offset off of section
// sec: one starting there, else one covering it (the nearest few below).
func (f *File) symbolAt(sec uint16, off int64, typ uint8) (Symbol, bool) {
	list := f.index.objects[sec]
	if typ == stFunc {
		list = f.index.funcs[sec]
	}
	if off < 0 || len(list) == 0 {
		return Symbol{}, false
	}
	o := uint64(off)
	i := sort.Search(len(list), func(i int) bool { return f.Symbols[list[i]].Value >= o })
	if i < len(list) && f.Symbols[list[i]].Value == o {
		return f.Symbols[list[i]], true
	}
	for j := i - 1; j >= 0 && j >= i-8; j-- {
		s := f.Symbols[list[j]]
		if o-s.Value < s.Size {
			return s, true
		}
	}
	return Symbol{}, false
}

// relocsIn calls fn for each relocation applying to bytes [start, end) of
// section sec, in offset order.
func (f *File) relocsIn(sec uint32, start, end uint64, fn func(r Reloc)) {
	list := f.index.relocs[sec]
	i := sort.Search(len(list), func(i int) bool { return list[i].offset >= start })
	for ; i < len(list) && list[i].offset < end; i++ {
		fn(f.Relocations[list[i].rs].Entries[list[i].e])
	}
}

// subprogramIndex maps each function symbol found in the programs'
// linked instructions to its own instructions (up to the next symbol).
func subprogramIndex(spec *ebpf.CollectionSpec) map[string]ebpfasm.Instructions {
	out := map[string]ebpfasm.Instructions{}
	names := make([]string, 0, len(spec.Programs))
	for n := range spec.Programs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		insns := spec.Programs[n].Instructions
		for i := 0; i < len(insns); {
			sym := insns[i].Symbol()
			end := i + 1
			for end < len(insns) && insns[end].Symbol() == "" {
				end++
			}
			if _, ok := out[sym]; sym != "" && !ok {
				out[sym] = insns[i:end]
			}
			i = end
		}
	}
	return out
}

// stringSet is a list without repeats, in insertion order.
type stringSet struct {
	list []string
	seen map[string]bool
}

func newStringSet() *stringSet { return &stringSet{list: []string{}, seen: map[string]bool{}} }

func (s *stringSet) add(v string) {
	if !s.seen[v] {
		s.seen[v] = true
		s.list = append(s.list, v)
	}
}
