package loader

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/cilium/ebpf"
)

// ErrNoPrograms is returned for an object file that holds no BPF program.
var ErrNoPrograms = errors.New("object file contains no BPF program")

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
	// file is the ELF file the object was read from.
	file *elfobj.File
	// dbg is its DWARF, read on first use.
	dbgOnce sync.Once
	dbg     *elfobj.Debug
	dbgErr  error
}

// debug returns the object's DWARF, read once.
func (o *Object) debug() (*elfobj.Debug, error) {
	o.dbgOnce.Do(func() {
		if o.file == nil {
			o.dbgErr = elfobj.ErrNoDWARF
			return
		}
		o.dbg, o.dbgErr = o.file.Debug()
	})
	return o.dbg, o.dbgErr
}

// Open reads a BPF ELF object file for loading, through elfobj.Open. Files
// that are not loadable BPF objects fail with an error matching
// elfobj.ErrNotBPF ("not a valid BPF object file: why"), objects without a
// program with ErrNoPrograms.
func Open(path string) (*Object, error) {
	f, err := elfobj.Open(path)
	if errors.Is(err, elfobj.ErrNotBPF) {
		return nil, &notLoadable{path, errors.Unwrap(err).Error()}
	}
	if err != nil {
		return nil, err
	}
	return FromELF(path, f)
}

// FromELF is Open for an object already read, such as one the text
// assembler built in memory; path names it in messages.
func FromELF(path string, f *elfobj.File) (*Object, error) {
	if e := f.Embedded; e != nil {
		return nil, &notLoadable{path, fmt.Sprintf("it is not BPF but embeds a BPF object (%d bytes at offset 0x%x): extract that first", e.Size, e.Offset)}
	}
	spec, err := f.CollectionSpec()
	if err != nil {
		return nil, &notLoadable{path, err.Error()}
	}
	if len(spec.Programs) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoPrograms)
	}
	name := filepath.Base(path)
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	obj := &Object{Path: path, Name: name, Spec: spec, all: f.ProgramOrder(), Maps: f.MapOrder(), file: f}
	for _, p := range obj.all {
		if spec.Programs[p].Type != ebpf.UnspecifiedProgram {
			obj.Programs = append(obj.Programs, p)
		}
	}
	return obj, nil
}

// notLoadable is a file the loader cannot take; it matches
// elfobj.ErrNotBPF.
type notLoadable struct{ path, why string }

func (e *notLoadable) Error() string        { return e.path + ": not a valid BPF object file: " + e.why }
func (e *notLoadable) Is(target error) bool { return target == elfobj.ErrNotBPF }

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
	return &Object{Path: o.Path, Name: o.Name, Spec: o.Spec.Copy(), Programs: o.Programs, Maps: o.Maps, all: o.all, file: o.file}
}
