package asm

import (
	"testing"

	ebpfasm "github.com/cilium/ebpf/asm"
)

// fakeSyms is a two-symbol kernel: __bpf_call_base and a few functions.
type fakeSyms map[uint64]string

func (f fakeSyms) Lookup(addr uint64) (string, bool) { s, ok := f[addr]; return s, ok }
func (f fakeSyms) CallBase() uint64                  { return 0xffffffff81000000 }

var kernel = KernelSymbolizer{
	Syms: fakeSyms{
		0xffffffff81000000 + 330864: "__htab_map_lookup_elem",
		0xffffffff81000000 - 68800:  "bpf_seq_printf",
		0xffffffffa0001000:          "bpf_prog_4b543f3eaffe3e92_helper_sub",
	},
	JitedKsyms: []uint64{0xffffffffa0000000, 0xffffffffa0001000, 0xffffffffa0002000},
}

func raw(code uint8, dst, src uint8, off int16, imm int32) Raw {
	return Raw{Code: code, Dst: dst, Src: src, Off: off, Imm: imm}
}

const (
	r0, r1, r2, r3, r4, r5, r6, r7, r10 = ebpfasm.R0, ebpfasm.R1, ebpfasm.R2, ebpfasm.R3, ebpfasm.R4,
		ebpfasm.R5, ebpfasm.R6, ebpfasm.R7, ebpfasm.RFP
)

func atomicInsn(sz ebpfasm.Size, dst, src ebpfasm.Register, off int16, imm int64) ebpfasm.Instruction {
	return ebpfasm.Instruction{OpCode: ebpfasm.OpCode(ebpfasm.StXClass) | ebpfasm.OpCode(ebpfasm.AtomicMode) | ebpfasm.OpCode(sz),
		Dst: dst, Src: src, Offset: off, Constant: imm}
}

// TestFormat checks the kernel grammar for every instruction class and every
// ldimm64 and call form, built with cilium/ebpf's builders where they exist.
func TestFormat(t *testing.T) {
	tests := []struct {
		ins  ebpfasm.Instruction
		sym  Symbolizer
		want string
	}{
		// ALU64 and ALU32, immediate and register operands.
		{ebpfasm.Mov.Reg(r6, r1), nil, "(bf) r6 = r1"},
		{ebpfasm.Mov.Imm(r0, -2085560268), nil, "(b7) r0 = -2085560268"},
		{ebpfasm.Mov.Imm32(r1, 4), nil, "(b4) w1 = 4"},
		{ebpfasm.Add.Imm(r2, -4), nil, "(07) r2 += -4"},
		{ebpfasm.Add.Reg32(r6, r1), nil, "(0c) w6 += w1"},
		{ebpfasm.Sub.Imm(r1, 1), nil, "(17) r1 -= 1"},
		{ebpfasm.Mul.Imm(r1, 3), nil, "(27) r1 *= 3"},
		{ebpfasm.Div.Reg(r1, r4), nil, "(3f) r1 /= r4"},
		{ebpfasm.SDiv.Reg(r1, r4), nil, "(3f) r1 s/= r4"},
		{ebpfasm.SDiv.Imm32(r1, 3), nil, "(34) w1 s/= 3"},
		{ebpfasm.Or.Imm(r1, 16), nil, "(47) r1 |= 16"},
		{ebpfasm.And.Reg(r1, r2), nil, "(5f) r1 &= r2"},
		{ebpfasm.LSh.Imm(r1, 2), nil, "(67) r1 <<= 2"},
		{ebpfasm.RSh.Reg32(r1, r2), nil, "(7c) w1 >>= w2"},
		{ebpfasm.Neg.Imm(r1, 0), nil, "(87) r1 = -r1"},
		{ebpfasm.Neg.Imm32(r1, 0), nil, "(84) w1 = -w1"},
		{ebpfasm.Mod.Imm(r1, 5), nil, "(97) r1 %= 5"},
		{ebpfasm.SMod.Reg32(r1, r2), nil, "(9c) w1 s%= w2"},
		{ebpfasm.Xor.Imm32(r1, 3), nil, "(a4) w1 ^= 3"},
		{ebpfasm.ArSh.Imm(r1, 1), nil, "(c7) r1 s>>= 1"},
		{ebpfasm.MovSX8.Reg(r5, r1), nil, "(bf) r5 = (s8)r1"},
		{ebpfasm.MovSX16.Reg32(r5, r1), nil, "(bc) w5 = (s16)w1"},
		{ebpfasm.MovSX32.Reg(r5, r1), nil, "(bf) r5 = (s32)r1"},
		{ebpfasm.HostTo(ebpfasm.BE, r1, ebpfasm.Word), nil, "(dc) r1 = be32 r1"},
		{ebpfasm.HostTo(ebpfasm.LE, r1, ebpfasm.Half), nil, "(d4) r1 = le16 r1"},
		{ebpfasm.BSwap(r1, ebpfasm.DWord), nil, "(d7) r1 = bswap64 r1"},
		// Memory.
		{ebpfasm.StoreMem(r10, -16, r1, ebpfasm.DWord), nil, "(7b) *(u64 *)(r10 -16) = r1"},
		{ebpfasm.StoreMem(r10, 0, r1, ebpfasm.Byte), nil, "(73) *(u8 *)(r10 +0) = r1"},
		{ebpfasm.StoreImm(r10, -4, 42, ebpfasm.Word), nil, "(62) *(u32 *)(r10 -4) = 42"},
		{ebpfasm.StoreImm(r10, -2, -1, ebpfasm.Half), nil, "(6a) *(u16 *)(r10 -2) = -1"},
		{ebpfasm.LoadMem(r1, r6, 112, ebpfasm.Word), nil, "(61) r1 = *(u32 *)(r6 +112)"},
		{ebpfasm.LoadMem(r1, r6, -8, ebpfasm.DWord), nil, "(79) r1 = *(u64 *)(r6 -8)"},
		{ebpfasm.LoadMemSX(r7, r10, -8, ebpfasm.Byte), nil, "(91) r7 = *(s8 *)(r10 -8)"},
		{ebpfasm.LoadMemSX(r7, r10, -8, ebpfasm.Word), nil, "(81) r7 = *(s32 *)(r10 -8)"},
		{ebpfasm.LoadAbs(14, ebpfasm.Half), nil, "(28) r0 = *(u16 *)skb[14]"},
		{ebpfasm.LoadInd(r0, r7, 2, ebpfasm.Byte), nil, "(50) r0 = *(u8 *)skb[r7 + 2]"},
		// Atomics, through cilium's extended opcodes and as raw fields.
		{ebpfasm.StoreXAdd(r0, r1, ebpfasm.DWord), nil, "(db) lock *(u64 *)(r0 +0) += r1"},
		{ebpfasm.OrAtomic.Mem(r10, r1, ebpfasm.Word, -16), nil, "(c3) lock *(u32 *)(r10 -16) |= r1"},
		{ebpfasm.FetchAdd.Mem(r10, r1, ebpfasm.DWord, -8), nil, "(db) r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)"},
		{atomicInsn(ebpfasm.Word, r10, r1, -16, 0xa1), nil, "(c3) r1 = atomic_fetch_xor((u32 *)(r10 -16), r1)"},
		{atomicInsn(ebpfasm.DWord, r10, r1, -8, 0x51), nil, "(db) r1 = atomic64_fetch_and((u64 *)(r10 -8), r1)"},
		{ebpfasm.Xchg.Mem(r10, r2, ebpfasm.DWord, -8), nil, "(db) r2 = atomic64_xchg((u64 *)(r10 -8), r2)"},
		{ebpfasm.CmpXchg.Mem(r10, r2, ebpfasm.Word, -8), nil, "(c3) r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r2)"},
		{ebpfasm.LoadAcquire(r0, r10, ebpfasm.DWord, -8), nil, "(db) r0 = load_acquire((u64 *)(r10 -8))"},
		{ebpfasm.StoreRelease(r10, r1, ebpfasm.Byte, -8), nil, "(d3) store_release((u8 *)(r10 -8), r1)"},
		{atomicInsn(ebpfasm.DWord, r10, r1, -8, 0x20), nil, "BUG_db"},
		// Jumps.
		{ebpfasm.Instruction{OpCode: ebpfasm.Ja.Op(ebpfasm.ImmSource), Offset: 4}, nil, "(05) goto pc+4"},
		{ebpfasm.Instruction{OpCode: ebpfasm.OpCode(ebpfasm.Jump32Class), Constant: -3}, nil, "(06) gotol pc-3"},
		{ebpfasm.Instruction{OpCode: ebpfasm.JEq.Op(ebpfasm.ImmSource), Dst: r0, Offset: 1}, nil, "(15) if r0 == 0x0 goto pc+1"},
		{ebpfasm.Instruction{OpCode: ebpfasm.JEq.Op(ebpfasm.ImmSource), Dst: r1, Offset: -2, Constant: -1}, nil, "(15) if r1 == 0xffffffff goto pc-2"},
		{ebpfasm.Instruction{OpCode: ebpfasm.OpCode(ebpfasm.Jump32Class).SetJumpOp(ebpfasm.JEq), Dst: r1, Constant: 5}, nil, "(16) if w1 == 0x5 goto pc+0"},
		{ebpfasm.Instruction{OpCode: ebpfasm.JGE.Op(ebpfasm.RegSource), Dst: r2, Src: r1, Offset: 1}, nil, "(3d) if r2 >= r1 goto pc+1"},
		{ebpfasm.Instruction{OpCode: ebpfasm.OpCode(ebpfasm.Jump32Class).SetJumpOp(ebpfasm.JSLT).SetSource(ebpfasm.RegSource), Dst: r2, Src: r1, Offset: 7}, nil, "(ce) if w2 s< w1 goto pc+7"},
		{ebpfasm.Instruction{OpCode: ebpfasm.JSet.Op(ebpfasm.ImmSource), Dst: r2, Offset: 1, Constant: 8}, nil, "(45) if r2 & 0x8 goto pc+1"},
		{ebpfasm.Instruction{OpCode: ebpfasm.JNE.Op(ebpfasm.RegSource), Dst: r2, Src: r3, Offset: 1}, nil, "(5d) if r2 != r3 goto pc+1"},
		{ebpfasm.Instruction{OpCode: ebpfasm.JCOND.Op(ebpfasm.ImmSource), Offset: 3}, nil, "(e5) may_goto pc+3"},
		{ebpfasm.Return(), nil, "(95) exit"},
		// Calls.
		{ebpfasm.FnMapLookupElem.Call(), nil, "(85) call bpf_map_lookup_elem#1"},
		{ebpfasm.FnTailCall.Call(), kernel, "(85) call bpf_tail_call#12"},
		{ebpfasm.FnPerfEventOutput.Call(), nil, "(85) call bpf_perf_event_output#25"},
		{ebpfasm.BuiltinFunc(330864).Call(), kernel, "(85) call __htab_map_lookup_elem#330864"},
		{ebpfasm.Instruction{OpCode: ebpfasm.Call.Op(ebpfasm.ImmSource), Constant: -68800}, kernel, "(85) call bpf_seq_printf#-68800"},
		{ebpfasm.BuiltinFunc(4096).Call(), kernel, "(85) call 0xffffffff81001000#4096"},
		{ebpfasm.BuiltinFunc(4096).Call(), nil, "(85) call unknown#4096"},
		{ebpfasm.Instruction{OpCode: ebpfasm.Call.Op(ebpfasm.ImmSource), Src: ebpfasm.PseudoKfuncCall, Constant: 330864}, kernel, "(85) call __htab_map_lookup_elem#330864"},
		{ebpfasm.Instruction{OpCode: ebpfasm.Call.Op(ebpfasm.ImmSource), Src: ebpfasm.PseudoKfuncCall, Constant: 7}, nil, "(85) call kernel-function#7"},
		{ebpfasm.Instruction{OpCode: ebpfasm.Call.Op(ebpfasm.ImmSource), Src: ebpfasm.PseudoCall, Offset: 1, Constant: 1}, kernel, "(85) call pc+1#bpf_prog_4b543f3eaffe3e92_helper_sub"},
		{ebpfasm.Instruction{OpCode: ebpfasm.Call.Op(ebpfasm.ImmSource), Src: ebpfasm.PseudoCall, Offset: 9, Constant: 2}, kernel, "(85) call pc+9#0xffffffffa0002000"},
		{ebpfasm.Instruction{OpCode: ebpfasm.Call.Op(ebpfasm.ImmSource), Src: ebpfasm.PseudoCall, Offset: 9, Constant: 2}, KernelSymbolizer{}, "(85) call pc+9"},
		{ebpfasm.Instruction{OpCode: ebpfasm.Call.Op(ebpfasm.ImmSource), Src: ebpfasm.PseudoCall, Constant: 5}, nil, "(85) call pc+5"},
		// ldimm64 forms.
		{ebpfasm.LoadImm(r3, 0x1122334455667788, ebpfasm.DWord), kernel, "(18) r3 = 0x1122334455667788"},
		{ebpfasm.LoadImm(r3, -1, ebpfasm.DWord), nil, "(18) r3 = 0xffffffffffffffff"},
		{ebpfasm.LoadMapPtr(r1, 131), kernel, "(18) r1 = map[id:131]"},
		{ebpfasm.LoadMapValue(r2, 134, 0), kernel, "(18) r2 = map[id:134][0]+0"},
		{ebpfasm.LoadMapValue(r2, 134, 16), kernel, "(18) r2 = map[id:134][0]+16"},
		{ebpfasm.Instruction{OpCode: ebpfasm.LoadImmOp(ebpfasm.DWord), Dst: r2, Src: 6, Constant: 8<<32 | 2}, kernel, "(18) r2 = map[idx:2]+8"},
		{ebpfasm.Instruction{OpCode: ebpfasm.LoadImmOp(ebpfasm.DWord), Dst: r2, Src: ebpfasm.PseudoFunc, Constant: 30}, kernel, "(18) r2 = subprog[+30]"},
		{ebpfasm.Instruction{OpCode: ebpfasm.LoadImmOp(ebpfasm.DWord), Dst: r2, Src: 5, Constant: 1}, kernel, "(18) r2 = 0x1"},
		{ebpfasm.Instruction{OpCode: ebpfasm.LoadImmOp(ebpfasm.DWord), Dst: r2, Src: 3, Constant: -0x7e000000}, kernel, "(18) r2 = 0xffffffff82000000"},
		{ebpfasm.LoadMapPtr(r1, 3), nil, "(18) r1 = 0x3"},
	}
	for _, tt := range tests {
		r, err := Encode(tt.ins)
		if err != nil {
			t.Errorf("%v: %v", tt.ins, err)
			continue
		}
		if got := Format(r, tt.sym); got != tt.want {
			t.Errorf("%v:\n got  %q\n want %q", tt.ins, got, tt.want)
		}
	}
}

// TestFormatRaw covers encodings only the kernel produces or cilium cannot
// build: internal moves, arena casts, indirect jumps, nospec and bad opcodes.
func TestFormatRaw(t *testing.T) {
	tests := []struct {
		r    Raw
		want string
	}{
		{raw(0xbf, 1, 2, 1, 1<<16|0), "(bf) r1 = addr_space_cast(r2, 1, 0)"},
		{raw(0xbf, 0, 0, -1, 0), "(bf) r0 = &(void __percpu *)(r0)"},
		{raw(0x0d, 3, 0, 0, 0), "(0d) gotox r3"},
		{raw(0xc2, 0, 0, 0, 0), "(c2) nospec"},
		{raw(0xe2, 0, 0, 0, 0), "BUG_st_e2"},
		{raw(0xe1, 0, 0, 0, 0), "BUG_ldx_e1"},
		{raw(0x00, 0, 0, 0, 0), "BUG_ld_00"},
		{raw(0x63|0x80, 0, 0, 0, 0), "BUG_e3"},
		{raw(0x16, 1, 0, 0, -1), "(16) if w1 == 0xffffffff goto pc+0"},
	}
	for _, tt := range tests {
		if got := Format(tt.r, nil); got != tt.want {
			t.Errorf("%+v:\n got  %q\n want %q", tt.r, got, tt.want)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	insns := ebpfasm.Instructions{
		ebpfasm.LoadImm(r1, 0x1122334455667788, ebpfasm.DWord),
		ebpfasm.SDiv.Imm(r1, 3), ebpfasm.MovSX16.Reg(r2, r1),
		ebpfasm.FetchOr.Mem(r10, r1, ebpfasm.DWord, -8),
		ebpfasm.Return(),
	}
	var b []byte
	for _, ins := range insns {
		r, err := Encode(ins)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, r.Bytes()...)
	}
	raws, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(raws) != len(insns) {
		t.Fatalf("decoded %d instructions, want %d", len(raws), len(insns))
	}
	if raws[3].Imm != 0x41 || raws[1].Off != 1 || raws[2].Off != 16 || raws[0].Imm64() != 0x1122334455667788 {
		t.Errorf("round trip lost fields: %+v", raws)
	}
	if _, err := Decode(b[:8]); err == nil {
		t.Error("a truncated ldimm64 decoded without error")
	}
	if _, err := Decode(b[:5]); err == nil {
		t.Error("5 bytes decoded without error")
	}
}
