package asm

import (
	"debug/elf"
	"fmt"
	"sort"

	"github.com/cilium/ebpf"
)

// ELFProgram is one program of an object file, ready to list: its
// instructions include the subprograms it calls, as cilium/ebpf links them.
type ELFProgram struct {
	Spec *ebpf.ProgramSpec
	// Section is the ELF section the program comes from, Offset its byte
	// offset there.
	Section string
	Offset  uint64
}

// ELFPrograms reads an object file and returns its programs in file order
// (section, then offset), with their specs from cilium/ebpf.
func ELFPrograms(path string) ([]ELFProgram, *ebpf.CollectionSpec, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read object %s: %w", path, err)
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read object %s: %w", path, err)
	}
	defer f.Close()
	type place struct {
		sec int
		off uint64
	}
	where := make(map[string]place)
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if elf.ST_TYPE(s.Info) == elf.STT_FUNC {
				where[s.Name] = place{int(s.Section), s.Value}
			}
		}
	}
	progs := make([]ELFProgram, 0, len(spec.Programs))
	for name, p := range spec.Programs {
		progs = append(progs, ELFProgram{Spec: p, Section: p.SectionName, Offset: where[name].off})
	}
	sort.Slice(progs, func(i, j int) bool {
		a, b := where[progs[i].Spec.Name], where[progs[j].Spec.Name]
		if a.sec != b.sec {
			return a.sec < b.sec
		}
		if a.off != b.off {
			return a.off < b.off
		}
		return progs[i].Spec.Name < progs[j].Spec.Name
	})
	return progs, spec, nil
}

// ELFListing lists a program of an object file: function headers from BTF,
// symbol labels where BTF has none, source lines from .BTF.ext, and calls,
// maps and global data by name.
func ELFListing(p *ebpf.ProgramSpec) ([]Line, error) {
	lines, err := Listing(p.Instructions, Options{Labels: true})
	if err != nil {
		return nil, fmt.Errorf("program %s: %w", p.Name, err)
	}
	return lines, nil
}
