package asm

import (
	"fmt"
)

// Symbolizer supplies the names the kernel's disassembly grammar leaves to
// its callers: call targets and the text of 64-bit immediates. A nil
// Symbolizer prints calls the way the kernel's own verifier log does.
type Symbolizer interface {
	// CallName returns the name printed for a call that is not a UAPI
	// helper below the helper table size. For bpf-to-bpf calls the result
	// follows "call pc"; for the others it precedes "#imm". ok is false when
	// there is nothing better than the grammar's fallback.
	CallName(r Raw) (name string, ok bool)
	// Imm64 returns the text after "rN = " for an ldimm64.
	Imm64(r Raw) string
}

var aluOps = [16]string{
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
	"neg", "%=", "^=", "=", "s>>=", "endian", "(null)", "(null)",
}

var jmpOps = [16]string{
	"jmp", "==", ">", ">=", "&", "!=", "s>", "s>=",
	"call", "exit", "<", "<=", "s<", "s<=", "(null)", "(null)",
}

// Sizes are indexed by BPF_SIZE(code) >> 3: W, H, B, DW.
var (
	unsignedSizes = [4]string{"u32", "u16", "u8", "u64"}
	signedSizes   = [4]string{"s32", "s16", "s8", "s64"}
	atomicALU     = map[int32]string{0x00: "add", 0x40: "or", 0x50: "and", 0xa0: "xor"}
)

// HelperName returns the UAPI name of helper id (bpf_map_lookup_elem for 1),
// or "" when the id is outside the table.
func HelperName(id int32) string {
	if id < 0 || int(id) >= len(helperNames) {
		return ""
	}
	return helperNames[id]
}

// Format renders one instruction in the kernel's disassembly grammar, as
// bpftool prints it after the "%4u: " index: "(bf) r6 = r1",
// "if r0 == 0x0 goto pc+1", "lock *(u64 *)(r0 +0) += r1". It follows the
// current kernel grammar, including ISA v4 and the newest atomics.
func Format(r Raw, s Symbolizer) string {
	code := r.Code
	op := code & 0xf0
	switch cls := r.Class(); cls {
	case classALU, classALU64:
		return formatALU(r)
	case classSTX:
		return formatSTX(r)
	case classST:
		switch code & 0xe0 {
		case modeMEM:
			return fmt.Sprintf("(%02x) *(%s *)(r%d %+d) = %d", code, unsignedSizes[(code&0x18)>>3], r.Dst, r.Off, r.Imm)
		case 0xc0:
			return fmt.Sprintf("(%02x) nospec", code)
		}
		return fmt.Sprintf("BUG_st_%02x", code)
	case classLDX:
		mode := code & 0xe0
		if mode != modeMEM && mode != modeMEMSX {
			return fmt.Sprintf("BUG_ldx_%02x", code)
		}
		sizes := unsignedSizes
		if mode == modeMEMSX {
			sizes = signedSizes
		}
		return fmt.Sprintf("(%02x) r%d = *(%s *)(r%d %+d)", code, r.Dst, sizes[(code&0x18)>>3], r.Src, r.Off)
	case classLD:
		size := unsignedSizes[(code&0x18)>>3]
		switch code & 0xe0 {
		case modeABS:
			return fmt.Sprintf("(%02x) r0 = *(%s *)skb[%d]", code, size, r.Imm)
		case modeIND:
			return fmt.Sprintf("(%02x) r0 = *(%s *)skb[r%d + %d]", code, size, r.Src, r.Imm)
		case modeIMM:
			if code&0x18 == sizeDW {
				imm := fmt.Sprintf("0x%x", r.Imm64())
				if s != nil {
					imm = s.Imm64(r)
				}
				return fmt.Sprintf("(%02x) r%d = %s", code, r.Dst, imm)
			}
		}
		return fmt.Sprintf("BUG_ld_%02x", code)
	default: // classJMP, classJMP32
		reg := byte('r')
		if cls == classJMP32 {
			reg = 'w'
		}
		switch {
		case op == opCALL:
			name := callName(r, s)
			if r.Src == pseudoCall {
				return fmt.Sprintf("(%02x) call pc%s", code, name)
			}
			return fmt.Sprintf("(%02x) call %s#%d", code, name, r.Imm)
		case code == classJMP|opJA:
			return fmt.Sprintf("(%02x) goto pc%+d", code, r.Off)
		case code == classJMP|opJA|srcX:
			return fmt.Sprintf("(%02x) gotox r%d", code, r.Dst)
		case code == classJMP|opCOND && r.Src == pseudoMayGoto:
			return fmt.Sprintf("(%02x) may_goto pc%+d", code, r.Off)
		case code == classJMP32|opJA:
			return fmt.Sprintf("(%02x) gotol pc%+d", code, r.Imm)
		case code == classJMP|opEXIT:
			return fmt.Sprintf("(%02x) exit", code)
		case code&srcX != 0:
			return fmt.Sprintf("(%02x) if %c%d %s %c%d goto pc%+d", code, reg, r.Dst, jmpOps[op>>4], reg, r.Src, r.Off)
		default:
			return fmt.Sprintf("(%02x) if %c%d %s 0x%x goto pc%+d", code, reg, r.Dst, jmpOps[op>>4], uint32(r.Imm), r.Off)
		}
	}
}

func formatALU(r Raw) string {
	code := r.Code
	op := code & 0xf0
	reg := byte('r')
	if r.Class() == classALU {
		reg = 'w'
	}
	switch {
	case op == opEND && r.Class() == classALU64:
		return fmt.Sprintf("(%02x) r%d = bswap%d r%d", code, r.Dst, r.Imm, r.Dst)
	case op == opEND:
		order := "le"
		if code&srcX != 0 {
			order = "be"
		}
		return fmt.Sprintf("(%02x) r%d = %s%d r%d", code, r.Dst, order, r.Imm, r.Dst)
	case code == classALU64|opMOV|srcX && r.Off == offAddrSpaceCast:
		return fmt.Sprintf("(%02x) r%d = addr_space_cast(r%d, %d, %d)", code, r.Dst, r.Src, uint32(r.Imm)>>16, uint16(r.Imm))
	case code == classALU64|opMOV|srcX && r.Off == offPercpuAddr:
		return fmt.Sprintf("(%02x) r%d = &(void __percpu *)(r%d)", code, r.Dst, r.Src)
	case op == opNEG:
		return fmt.Sprintf("(%02x) %c%d = -%c%d", code, reg, r.Dst, reg, r.Dst)
	}
	name := aluOps[op>>4]
	if (op == opDIV || op == opMOD) && r.Off == 1 {
		name = "s" + name
	}
	if code&srcX == 0 {
		return fmt.Sprintf("(%02x) %c%d %s %d", code, reg, r.Dst, name, r.Imm)
	}
	cast := ""
	if op == opMOV {
		switch r.Off {
		case 8:
			cast = "(s8)"
		case 16:
			cast = "(s16)"
		case 32:
			cast = "(s32)"
		}
	}
	return fmt.Sprintf("(%02x) %c%d %s %s%c%d", code, reg, r.Dst, name, cast, reg, r.Src)
}

func formatSTX(r Raw) string {
	code := r.Code
	size := unsignedSizes[(code&0x18)>>3]
	switch code & 0xe0 {
	case modeMEM:
		return fmt.Sprintf("(%02x) *(%s *)(r%d %+d) = r%d", code, size, r.Dst, r.Off, r.Src)
	case modeATOMIC:
	default:
		return fmt.Sprintf("BUG_%02x", code)
	}
	bits := ""
	if code&0x18 == sizeDW {
		bits = "64"
	}
	if name, ok := atomicALU[r.Imm]; ok {
		return fmt.Sprintf("(%02x) lock *(%s *)(r%d %+d) %s r%d", code, size, r.Dst, r.Off, aluOps[r.Imm>>4], r.Src)
	} else if name, ok = atomicALU[r.Imm&^atomicFetch]; ok && r.Imm&atomicFetch != 0 {
		return fmt.Sprintf("(%02x) r%d = atomic%s_fetch_%s((%s *)(r%d %+d), r%d)", code, r.Src, bits, name, size, r.Dst, r.Off, r.Src)
	}
	switch r.Imm {
	case atomicCmpXchg:
		return fmt.Sprintf("(%02x) r0 = atomic%s_cmpxchg((%s *)(r%d %+d), r0, r%d)", code, bits, size, r.Dst, r.Off, r.Src)
	case atomicXchg:
		return fmt.Sprintf("(%02x) r%d = atomic%s_xchg((%s *)(r%d %+d), r%d)", code, r.Src, bits, size, r.Dst, r.Off, r.Src)
	case atomicLoadAcq:
		return fmt.Sprintf("(%02x) r%d = load_acquire((%s *)(r%d %+d))", code, r.Dst, size, r.Src, r.Off)
	case atomicStoreRl:
		return fmt.Sprintf("(%02x) store_release((%s *)(r%d %+d), r%d)", code, size, r.Dst, r.Off, r.Src)
	}
	return fmt.Sprintf("BUG_%02x", code)
}

// callName implements the kernel's name choice for calls: the UAPI table for
// plain helper ids, then the symbolizer, then the grammar's fallbacks.
func callName(r Raw, s Symbolizer) string {
	if r.Src == 0 {
		if name := HelperName(r.Imm); name != "" {
			return name
		}
	}
	if s != nil {
		if name, ok := s.CallName(r); ok {
			return name
		}
	}
	switch r.Src {
	case pseudoCall:
		return fmt.Sprintf("%+d", r.Imm)
	case pseudoKfuncCall:
		return "kernel-function"
	}
	return "unknown"
}
