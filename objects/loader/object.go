package loader

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
)

// ErrNoPrograms is returned for an object file that holds no BPF program.
var ErrNoPrograms = errors.New("object file contains no BPF program")

// ErrNotBPFObject is returned for a file that is not a readable BPF ELF
// object (not ELF, truncated, another machine, corrupt sections).
var ErrNotBPFObject = errors.New("not a valid BPF object file")

// Object is a BPF ELF object file read for loading: its CollectionSpec and
// the names of its programs and maps in the order libbpf (and so bpftool)
// walks them, which decides "the first program" of prog load and the
// indexes of map idx N.
type Object struct {
	Path string
	// Name is libbpf's object name: the file name up to its first dot.
	Name string
	Spec *ebpf.CollectionSpec
	// Programs are the programs with a known type. Functions in sections
	// libbpf does not know are left out (cilium/ebpf does not load them
	// either) unless a type override gives them one.
	Programs []string
	Maps     []string
	// all is every program, typed or not, in ELF order.
	all []string
}

// OpenObject reads a BPF ELF object file. It fails with ErrNotBPFObject for
// files cilium/ebpf cannot parse and ErrNoPrograms for objects without a
// program.
func OpenObject(path string) (*Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrNotBPFObject, truncated(f, err))
	}
	defer ef.Close()
	if ef.Machine != elf.EM_BPF {
		return nil, fmt.Errorf("%s: %w: ELF machine is %v, not EM_BPF", path, ErrNotBPFObject, ef.Machine)
	}

	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrNotBPFObject, truncated(f, err))
	}
	if len(spec.Programs) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoPrograms)
	}

	name := filepath.Base(path)
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	obj := &Object{Path: path, Name: name, Spec: spec}
	obj.all, obj.Maps = elfOrder(ef, spec)
	for _, p := range obj.all {
		if spec.Programs[p].Type != ebpf.UnspecifiedProgram {
			obj.Programs = append(obj.Programs, p)
		}
	}
	return obj, nil
}

// truncated says so when err comes from reading past the end of f.
func truncated(f *os.File, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if st, serr := f.Stat(); serr == nil {
			return fmt.Errorf("the file is truncated (%d bytes): %w", st.Size(), err)
		}
	}
	return err
}

// elfOrder returns program and map names in libbpf's order: programs by
// section index then offset; maps from the legacy "maps" section, then
// ".maps", both by offset, then data sections in section order, then
// .kconfig and struct_ops maps. Names the symbol table does not place come
// last, sorted.
func elfOrder(ef *elf.File, spec *ebpf.CollectionSpec) (progs, maps []string) {
	type placed struct {
		name string
		sec  elf.SectionIndex
		off  uint64
		rank int
	}
	syms, _ := ef.Symbols()
	var ps, ms []placed
	seenP := map[string]bool{}
	seenM := map[string]bool{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF || int(s.Section) >= len(ef.Sections) {
			continue
		}
		sec := ef.Sections[s.Section]
		switch {
		case elf.ST_TYPE(s.Info) == elf.STT_FUNC && spec.Programs[s.Name] != nil && !seenP[s.Name] &&
			spec.Programs[s.Name].SectionName == sec.Name:
			seenP[s.Name] = true
			ps = append(ps, placed{s.Name, s.Section, s.Value, 0})
		case (sec.Name == "maps" || sec.Name == ".maps") && spec.Maps[s.Name] != nil && !seenM[s.Name]:
			seenM[s.Name] = true
			rank := 1
			if sec.Name == "maps" {
				rank = 0
			}
			ms = append(ms, placed{s.Name, s.Section, s.Value, rank})
		}
	}
	// Data sections are maps named after their section.
	for i, sec := range ef.Sections {
		if spec.Maps[sec.Name] != nil && !seenM[sec.Name] {
			rank := 2
			switch {
			case sec.Name == ".kconfig":
				rank = 3
			case strings.HasPrefix(sec.Name, ".struct_ops"):
				rank = 4
			}
			seenM[sec.Name] = true
			ms = append(ms, placed{sec.Name, elf.SectionIndex(i), 0, rank})
		}
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].sec != ps[j].sec {
			return ps[i].sec < ps[j].sec
		}
		return ps[i].off < ps[j].off
	})
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
	for _, p := range ps {
		progs = append(progs, p.name)
	}
	for _, m := range ms {
		maps = append(maps, m.name)
	}
	progs = append(progs, leftovers(spec.Programs, seenP)...)
	maps = append(maps, leftovers(spec.Maps, seenM)...)
	return progs, maps
}

func sectionsOf(spec *ebpf.CollectionSpec) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range spec.Programs {
		if !seen[p.SectionName] {
			seen[p.SectionName] = true
			out = append(out, p.SectionName)
		}
	}
	sort.Strings(out)
	return out
}

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

// MapPinName is the file name bpftool gives a map under pinmaps DIR:
// libbpf's map name with dots turned into underscores. Data section maps
// carry libbpf's object-name prefix ("demo.bss" pins as "demo_bss").
func (o *Object) MapPinName(name string) string {
	if strings.HasPrefix(name, ".") {
		sfx := max(len(name), 7)
		pfx := 0
		if !strings.Contains(name[1:], ".") {
			pfx = max(min(15-sfx, len(o.Name)), 0)
		}
		name = o.Name[:pfx] + name
		if len(name) > 15 {
			name = name[:15]
		}
	}
	return strings.ReplaceAll(name, ".", "_")
}

// checkTyped fails when no program of o has a type: every section is one
// libbpf does not know, and no type override was given.
func (o *Object) checkTyped() error {
	if len(o.Programs) == 0 {
		return fmt.Errorf("%s: %w in a section of known type (sections: %s); give one with type TYPE",
			o.Path, ErrNoPrograms, strings.Join(sectionsOf(o.Spec), ", "))
	}
	return nil
}

// copy returns obj with a deep copy of its spec, for changes that must not
// outlive one load.
func (o *Object) copy() *Object {
	c := *o
	c.Spec = o.Spec.Copy()
	return &c
}
