package asm

import "fmt"

// SymbolTable is the kernel symbol lookup translated code needs.
// *objects.Kallsyms implements it.
type SymbolTable interface {
	// Lookup returns the symbol at exactly addr.
	Lookup(addr uint64) (string, bool)
	// CallBase returns the address of __bpf_call_base.
	CallBase() uint64
}

// KernelSymbolizer names calls and immediates in translated ("xlated") code
// exactly as bpftool does: helpers and kfuncs by the kernel symbol at
// __bpf_call_base+imm, bpf-to-bpf calls by the JITed subprogram symbol,
// map references by map id.
type KernelSymbolizer struct {
	// Syms resolves addresses; nil behaves like an unreadable kallsyms.
	Syms SymbolTable
	// JitedKsyms holds the start address of each JITed subprogram.
	JitedKsyms []uint64
}

func (k KernelSymbolizer) lookup(addr uint64) (string, bool) {
	if k.Syms == nil {
		return "", false
	}
	return k.Syms.Lookup(addr)
}

// CallName implements Symbolizer.
func (k KernelSymbolizer) CallName(r Raw) (string, bool) {
	var base uint64
	if k.Syms != nil {
		base = k.Syms.CallBase()
	}
	addr := base + uint64(int64(r.Imm))
	if r.Src == pseudoCall && r.Imm >= 0 && int(r.Imm) < len(k.JitedKsyms) {
		addr = k.JitedKsyms[r.Imm]
	}
	name, ok := k.lookup(addr)
	if r.Src == pseudoCall {
		switch {
		case len(k.JitedKsyms) == 0:
			return fmt.Sprintf("%+d", r.Off), true
		case ok:
			return fmt.Sprintf("%+d#%s", r.Off, name), true
		default:
			return fmt.Sprintf("%+d#0x%x", r.Off, addr), true
		}
	}
	if ok {
		return name, true
	}
	return fmt.Sprintf("0x%x", addr), true
}

// Imm64 implements Symbolizer with bpftool's map and subprogram forms.
func (k KernelSymbolizer) Imm64(r Raw) string {
	return kernelImm64(r)
}

func kernelImm64(r Raw) string {
	switch r.Src {
	case pseudoMapFD:
		return fmt.Sprintf("map[id:%d]", r.Imm)
	case pseudoMapValue:
		return fmt.Sprintf("map[id:%d][0]+%d", r.Imm, r.Imm2)
	case pseudoMapIdxValue:
		return fmt.Sprintf("map[idx:%d]+%d", r.Imm, r.Imm2)
	case pseudoFunc:
		return fmt.Sprintf("subprog[%+d]", r.Imm)
	}
	return fmt.Sprintf("0x%x", r.Imm64())
}

// refSymbolizer names the targets of not-yet-loaded code (ELF objects, the
// demo) by the symbols cilium/ebpf attached to its instructions.
type refSymbolizer struct {
	ref  string
	next Symbolizer
	// callOff is the relative offset of a resolved bpf-to-bpf call.
	callOff  int
	resolved bool
}

func (s refSymbolizer) CallName(r Raw) (string, bool) {
	if s.ref == "" {
		if s.next != nil {
			return s.next.CallName(r)
		}
		return "", false
	}
	if r.Src == pseudoCall && s.resolved {
		return fmt.Sprintf("%+d#%s", s.callOff, s.ref), true
	}
	return s.ref, true
}

func (s refSymbolizer) Imm64(r Raw) string {
	if s.ref == "" {
		if s.next != nil {
			return s.next.Imm64(r)
		}
		return kernelImm64(r)
	}
	switch r.Src {
	case pseudoMapFD, pseudoMapIdx:
		return fmt.Sprintf("map[%s]", s.ref)
	case pseudoMapValue, pseudoMapIdxValue:
		return fmt.Sprintf("map[%s][0]+%d", s.ref, r.Imm2)
	case pseudoFunc:
		return fmt.Sprintf("subprog[%s]", s.ref)
	case pseudoBTFID:
		return fmt.Sprintf("ksym[%s]", s.ref)
	}
	return fmt.Sprintf("0x%x <%s>", r.Imm64(), s.ref)
}
