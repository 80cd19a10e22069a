package asm

import (
	"fmt"

	"github.com/cilium/ebpf"
)

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
