package elfobj

import (
	"errors"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
)

// CollectionSpec returns the object as cilium/ebpf reads it for loading,
// or an error matching ErrNotBPF that says why it cannot. The spec is
// shared: copy it before changing it.
func (f *File) CollectionSpec() (*ebpf.CollectionSpec, error) {
	if f.spec == nil {
		return nil, notBPF(errors.New(f.BPFError))
	}
	return f.spec, nil
}

// ProgramOrder returns the names of the object's programs (every program
// of CollectionSpec, typed or not) in libbpf's order, which decides "the
// first program" of bpftool's prog load: by section, then offset.
// Programs the symbol table does not place come last, sorted.
func (f *File) ProgramOrder() []string {
	if f.spec == nil {
		return nil
	}
	seen := map[string]bool{}
	var names []string
	for _, p := range f.Programs {
		ps := f.spec.Programs[p.Name]
		if ps == nil || ps.SectionName != p.Section || seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		names = append(names, p.Name)
	}
	return append(names, leftovers(f.spec.Programs, seen)...)
}

// MapOrder returns the names of the object's maps in libbpf's order, which
// decides the indexes of bpftool's `map idx N`: maps of the legacy "maps"
// section, then of ".maps", both by offset; then data sections in section
// order; then .kconfig and struct_ops maps. Maps the symbol table does not
// place come last, sorted.
func (f *File) MapOrder() []string {
	if f.spec == nil {
		return nil
	}
	type placed struct {
		name      string
		rank, sec int
		off       uint64
	}
	var ms []placed
	seen := map[string]bool{}
	for _, s := range f.Symbols {
		if s.SectionIndex == 0 || int(s.SectionIndex) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[s.SectionIndex].Name
		if !isMapsSection(sec) || f.spec.Maps[s.Name] == nil || seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		rank := 1
		if sec == "maps" {
			rank = 0
		}
		ms = append(ms, placed{s.Name, rank, int(s.SectionIndex), s.Value})
	}
	// Data sections are maps named after their section.
	for i, sec := range f.Sections {
		if f.spec.Maps[sec.Name] == nil || seen[sec.Name] {
			continue
		}
		rank := 2
		switch {
		case sec.Name == ".kconfig":
			rank = 3
		case strings.HasPrefix(sec.Name, ".struct_ops"):
			rank = 4
		}
		seen[sec.Name] = true
		ms = append(ms, placed{sec.Name, rank, i, 0})
	}
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.sec != b.sec {
			return a.sec < b.sec
		}
		return a.off < b.off
	})
	names := make([]string, 0, len(ms))
	for _, m := range ms {
		names = append(names, m.name)
	}
	return append(names, leftovers(f.spec.Maps, seen)...)
}

// leftovers returns the names of all that seen lacks, sorted.
func leftovers[T any](all map[string]T, seen map[string]bool) []string {
	var rest []string
	for name := range all {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return rest
}
