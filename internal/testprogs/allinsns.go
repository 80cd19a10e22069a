// Package testprogs builds the hand-written programs bpfkit's tests load:
// one that uses every instruction class the kernel accepts.
package testprogs

import (
	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

var (
	btfInt     = &ebpfbtf.Int{Name: "int", Size: 4, Encoding: ebpfbtf.Signed}
	btfLong    = &ebpfbtf.Int{Name: "long", Size: 8, Encoding: ebpfbtf.Signed}
	btfU32     = &ebpfbtf.Typedef{Name: "__u32", Type: &ebpfbtf.Int{Name: "unsigned int", Size: 4}}
	btfVoidPtr = &ebpfbtf.Pointer{Target: &ebpfbtf.Void{}}

	allInsnsFunc = &ebpfbtf.Func{Name: "all_insns", Linkage: ebpfbtf.GlobalFunc, Type: &ebpfbtf.FuncProto{
		Return: btfInt, Params: []ebpfbtf.FuncParam{{Name: "ctx", Type: btfVoidPtr}}}}
	tripleFunc = &ebpfbtf.Func{Name: "triple", Linkage: ebpfbtf.StaticFunc, Type: &ebpfbtf.FuncProto{
		Return: btfInt, Params: []ebpfbtf.FuncParam{{Name: "x", Type: btfInt}}}}
	loopCBFunc = &ebpfbtf.Func{Name: "loop_cb", Linkage: ebpfbtf.StaticFunc, Type: &ebpfbtf.FuncProto{
		Return: btfLong, Params: []ebpfbtf.FuncParam{{Name: "index", Type: btfU32}, {Name: "ctx", Type: btfVoidPtr}}}}
)

// R is shorthand for the test programs below.
type R = ebpfasm.Register

// LoadAllInstructions creates the maps AllInstructions needs and loads it as
// a socket filter named all_insns. close releases everything.
func LoadAllInstructions() (prog *ebpf.Program, close func(), err error) {
	array, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1})
	if err != nil {
		return nil, nil, err
	}
	progArray, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		array.Close()
		return nil, nil, err
	}
	prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{Name: "all_insns", Type: ebpf.SocketFilter, License: "GPL",
		Instructions: AllInstructions(array, progArray)})
	if err != nil {
		array.Close()
		progArray.Close()
		return nil, nil, err
	}
	return prog, func() { prog.Close(); progArray.Close(); array.Close() }, nil
}

// insn builds a raw-field instruction for encodings cilium has no builder for.
func insn(op ebpfasm.OpCode, dst, src R, off int16, imm int64) ebpfasm.Instruction {
	return ebpfasm.Instruction{OpCode: op, Dst: dst, Src: src, Offset: off, Constant: imm}
}

// atomicOp is the plain BPF_STX | BPF_ATOMIC opcode. cilium v0.22's Marshal
// drops the operation of its extended atomic opcodes, so the tests put it in
// the immediate themselves.
func atomicOp(sz ebpfasm.Size) ebpfasm.OpCode {
	return ebpfasm.OpCode(ebpfasm.StXClass) | ebpfasm.OpCode(ebpfasm.AtomicMode) | ebpfasm.OpCode(sz)
}

func atomic(a ebpfasm.AtomicOp, sz ebpfasm.Size, dst, src R, off int16) ebpfasm.Instruction {
	return insn(atomicOp(sz), dst, src, off, int64(a>>8))
}

// AllInstructions is a socket filter that uses every instruction class the
// kernel accepts from a privileged loader: ALU and ALU64 with immediate and
// register operands, ISA v4 (signed division and modulo, sign-extending moves
// and loads, bswap, gotol), every memory size, atomics including fetch
// variants, xchg, cmpxchg, load-acquire and store-release, conditional jumps
// of both widths, ldimm64 constants, map pointers and map values, helper,
// bpf-to-bpf and callback calls, a tail call and legacy packet loads.
func AllInstructions(array, progs *ebpf.Map) ebpfasm.Instructions {
	const (
		r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, fp = ebpfasm.R0, ebpfasm.R1, ebpfasm.R2, ebpfasm.R3,
			ebpfasm.R4, ebpfasm.R5, ebpfasm.R6, ebpfasm.R7, ebpfasm.R8, ebpfasm.R9, ebpfasm.RFP
	)
	alu := []ebpfasm.ALUOp{ebpfasm.Add, ebpfasm.Sub, ebpfasm.Mul, ebpfasm.Div, ebpfasm.SDiv, ebpfasm.Or,
		ebpfasm.And, ebpfasm.LSh, ebpfasm.RSh, ebpfasm.Mod, ebpfasm.SMod, ebpfasm.Xor, ebpfasm.ArSh}
	jmp := []ebpfasm.JumpOp{ebpfasm.JEq, ebpfasm.JGT, ebpfasm.JGE, ebpfasm.JSet, ebpfasm.JNE, ebpfasm.JSGT,
		ebpfasm.JSGE, ebpfasm.JLT, ebpfasm.JLE, ebpfasm.JSLT, ebpfasm.JSLE}
	var p ebpfasm.Instructions
	add := func(is ...ebpfasm.Instruction) { p = append(p, is...) }

	add(ebpfbtf.WithFuncMetadata(ebpfasm.Mov.Reg(r6, r1).WithSymbol("all_insns"), allInsnsFunc))
	add(ebpfasm.LoadMem(r7, r6, 0, ebpfasm.Word))  // skb->len: unknown to the verifier
	add(ebpfasm.LoadMem(r8, r6, 16, ebpfasm.Word)) // skb->protocol
	add(ebpfasm.Mov.Imm(r0, 0))

	// ALU64 and ALU32, immediate and register.
	add(ebpfasm.Mov.Imm(r1, 1000), ebpfasm.Mov.Imm(r2, 7), ebpfasm.Mov.Imm32(r3, 9))
	for _, op := range alu {
		v := int32(3)
		add(op.Imm(r1, v), op.Reg(r1, r2), op.Imm32(r3, v), op.Reg32(r3, r2))
	}
	add(ebpfasm.Neg.Imm(r1, 0), ebpfasm.Neg.Imm32(r3, 0))
	add(ebpfasm.Mov.Reg32(r4, r3), ebpfasm.Mov.Imm32(r4, -5), ebpfasm.Mov.Imm(r4, -2085560268))
	add(ebpfasm.MovSX8.Reg(r5, r1), ebpfasm.MovSX16.Reg(r5, r1), ebpfasm.MovSX32.Reg(r5, r1))
	add(ebpfasm.MovSX8.Reg32(r5, r3), ebpfasm.MovSX16.Reg32(r5, r3))
	for _, sz := range []ebpfasm.Size{ebpfasm.Half, ebpfasm.Word, ebpfasm.DWord} {
		add(ebpfasm.HostTo(ebpfasm.BE, r1, sz), ebpfasm.HostTo(ebpfasm.LE, r1, sz), ebpfasm.BSwap(r1, sz))
	}

	// Stores and loads of every size, immediate stores, sign-extending loads.
	add(ebpfasm.StoreMem(fp, -8, r1, ebpfasm.DWord), ebpfasm.StoreMem(fp, -12, r1, ebpfasm.Word),
		ebpfasm.StoreMem(fp, -14, r1, ebpfasm.Half), ebpfasm.StoreMem(fp, -15, r1, ebpfasm.Byte))
	add(insn(ebpfasm.StoreImmOp(ebpfasm.DWord), fp, 0, -24, 42), ebpfasm.StoreImm(fp, -28, -1, ebpfasm.Word),
		ebpfasm.StoreImm(fp, -30, 7, ebpfasm.Half), ebpfasm.StoreImm(fp, -31, 1, ebpfasm.Byte),
		ebpfasm.StoreImm(fp, -32, 0, ebpfasm.Byte))
	add(ebpfasm.LoadMem(r2, fp, -8, ebpfasm.DWord), ebpfasm.LoadMem(r2, fp, -12, ebpfasm.Word),
		ebpfasm.LoadMem(r2, fp, -14, ebpfasm.Half), ebpfasm.LoadMem(r2, fp, -15, ebpfasm.Byte))
	add(ebpfasm.LoadMemSX(r2, fp, -12, ebpfasm.Word), ebpfasm.LoadMemSX(r2, fp, -14, ebpfasm.Half),
		ebpfasm.LoadMemSX(r2, fp, -15, ebpfasm.Byte))

	// Atomics on the stack.
	add(ebpfasm.Mov.Imm(r1, 1))
	for _, sz := range []ebpfasm.Size{ebpfasm.DWord, ebpfasm.Word} {
		off := int16(-8)
		if sz == ebpfasm.Word {
			off = -16
			add(ebpfasm.StoreImm(fp, off, 5, ebpfasm.Word))
		}
		for _, a := range []ebpfasm.AtomicOp{ebpfasm.AddAtomic, ebpfasm.AndAtomic, ebpfasm.OrAtomic, ebpfasm.XorAtomic,
			ebpfasm.FetchAdd, ebpfasm.FetchAnd, ebpfasm.FetchOr, ebpfasm.FetchXor, ebpfasm.Xchg} {
			add(atomic(a, sz, fp, r1, off), ebpfasm.Mov.Imm(r1, 1))
		}
		add(ebpfasm.Mov.Imm(r0, 0), atomic(ebpfasm.CmpXchg, sz, fp, r1, off), ebpfasm.Mov.Imm(r0, 0))
	}
	for _, sz := range []ebpfasm.Size{ebpfasm.DWord, ebpfasm.Word, ebpfasm.Half, ebpfasm.Byte} {
		add(insn(atomicOp(sz), r2, fp, -8, 0x100), insn(atomicOp(sz), fp, r2, -8, 0x110))
	}

	// Conditional jumps of both widths over one instruction each, then ja
	// and gotol around alternatives.
	for i, op := range jmp {
		add(op.Imm(r7, int32(i+1), "skip_k"+op.String()), ebpfasm.Add.Imm(r0, 1),
			ebpfasm.Add.Imm(r0, 0).WithSymbol("skip_k"+op.String()))
		add(op.Reg(r7, r8, "skip_x"+op.String()), ebpfasm.Add.Imm(r0, 1),
			ebpfasm.Add.Imm(r0, 0).WithSymbol("skip_x"+op.String()))
		add(op.Imm32(r7, -1, "skip_k32"+op.String()), ebpfasm.Add.Imm(r0, 1),
			ebpfasm.Add.Imm(r0, 0).WithSymbol("skip_k32"+op.String()))
		add(op.Reg32(r7, r8, "skip_x32"+op.String()), ebpfasm.Add.Imm(r0, 1),
			ebpfasm.Add.Imm(r0, 0).WithSymbol("skip_x32"+op.String()))
	}
	add(ebpfasm.JGT.Imm(r7, 3, "else1"), ebpfasm.Mov.Imm(r9, 1), ebpfasm.Ja.Label("join1"),
		ebpfasm.Mov.Imm(r9, 2).WithSymbol("else1"), ebpfasm.Mov.Reg(r9, r9).WithSymbol("join1"))
	add(ebpfasm.JGT.Imm(r7, 4, "else2"), ebpfasm.Mov.Imm(r9, 1), ebpfasm.LongJump("join2"),
		ebpfasm.Mov.Imm(r9, 2).WithSymbol("else2"), ebpfasm.Mov.Reg(r9, r9).WithSymbol("join2"))

	// ldimm64 forms and map access.
	add(ebpfasm.LoadImm(r3, 0x1122334455667788, ebpfasm.DWord))
	add(ebpfasm.StoreImm(fp, -4, 0, ebpfasm.Word))
	add(ebpfasm.LoadMapPtr(r1, array.FD()), ebpfasm.Mov.Reg(r2, fp), ebpfasm.Add.Imm(r2, -4),
		ebpfasm.FnMapLookupElem.Call(), ebpfasm.JEq.Imm(r0, 0, "miss"),
		ebpfasm.LoadMem(r1, r0, 0, ebpfasm.DWord), ebpfasm.Mov.Imm(r0, 0).WithSymbol("miss"))
	add(ebpfasm.LoadMapValue(r2, array.FD(), 4), ebpfasm.LoadMem(r2, r2, 0, ebpfasm.Word))

	// Helpers, a callback, a subprogram, legacy packet loads, a tail call.
	add(ebpfasm.FnGetPrandomU32.Call(), ebpfasm.FnKtimeGetNs.Call())
	add(ebpfasm.Mov.Imm(r1, 3), ebpfasm.Instruction{OpCode: ebpfasm.LoadImmOp(ebpfasm.DWord), Dst: r2,
		Src: ebpfasm.PseudoFunc, Constant: -1}.WithReference("loop_cb"),
		ebpfasm.Mov.Imm(r3, 0), ebpfasm.Mov.Imm(r4, 0), ebpfasm.FnLoop.Call())
	add(ebpfasm.Mov.Reg(r1, r7), ebpfasm.Call.Label("triple"))
	add(ebpfasm.LoadAbs(0, ebpfasm.Byte), ebpfasm.LoadAbs(0, ebpfasm.Half), ebpfasm.LoadAbs(0, ebpfasm.Word))
	add(ebpfasm.Mov.Imm(r9, 0), ebpfasm.LoadInd(r0, r9, 2, ebpfasm.Byte))
	add(ebpfasm.Mov.Reg(r1, r6), ebpfasm.LoadMapPtr(r2, progs.FD()), ebpfasm.Mov.Imm(r3, 0),
		ebpfasm.FnTailCall.Call())
	add(ebpfasm.Mov.Imm(r0, 0), ebpfasm.Return())

	add(ebpfbtf.WithFuncMetadata(ebpfasm.Mul.Imm(r1, 3).WithSymbol("triple"), tripleFunc),
		ebpfasm.Mov.Reg(r0, r1), ebpfasm.Return())
	add(ebpfbtf.WithFuncMetadata(ebpfasm.Mov.Imm(r0, 0).WithSymbol("loop_cb"), loopCBFunc), ebpfasm.Return())
	return p
}
