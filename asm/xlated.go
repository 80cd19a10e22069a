package asm

import (
	"bytes"
	"fmt"

	"github.com/cilium/ebpf"
)

// Xlated builds the listing of a loaded program's translated instructions
// with bpftool's names: helpers and kfuncs through syms (nil when kallsyms
// is unreadable), bpf-to-bpf calls through the program's JITed symbols,
// maps by id, BTF function headers and line info.
func Xlated(info *ebpf.ProgramInfo, syms SymbolTable) ([]Line, error) {
	insns, err := info.Instructions()
	if err != nil {
		return nil, fmt.Errorf("error retrieving insn dump: kernel.kptr_restrict set?: %w", err)
	}
	ks := KernelSymbolizer{Syms: syms}
	if addrs, ok := info.JitedKsymAddrs(); ok {
		for _, a := range addrs {
			ks.JitedKsyms = append(ks.JitedKsyms, uint64(a))
		}
	}
	return Listing(insns, Options{Symbolizer: ks})
}

// RawBytes returns the listing's instructions in their wire encoding, what
// bpftool writes with "prog dump xlated PROG file FILE".
func RawBytes(lines []Line) []byte {
	var b bytes.Buffer
	for i := range lines {
		b.Write(lines[i].Raw.Bytes())
	}
	return b.Bytes()
}
