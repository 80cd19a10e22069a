package asm

import (
	"encoding/binary"
	"errors"
	"fmt"

	ebpfasm "github.com/cilium/ebpf/asm"
)

// BPF instruction encoding constants from the instruction-set specification
// (RFC 9669), named as in the kernel UAPI.
const (
	classLD    = 0x00
	classLDX   = 0x01
	classST    = 0x02
	classSTX   = 0x03
	classALU   = 0x04
	classJMP   = 0x05
	classJMP32 = 0x06
	classALU64 = 0x07

	modeIMM    = 0x00
	modeABS    = 0x20
	modeIND    = 0x40
	modeMEM    = 0x60
	modeMEMSX  = 0x80
	modeATOMIC = 0xc0

	sizeW  = 0x00
	sizeH  = 0x08
	sizeB  = 0x10
	sizeDW = 0x18

	srcK = 0x00
	srcX = 0x08

	opDIV  = 0x30
	opNEG  = 0x80
	opMOD  = 0x90
	opMOV  = 0xb0
	opEND  = 0xd0
	opJA   = 0x00
	opCALL = 0x80
	opEXIT = 0x90
	opCOND = 0xe0

	atomicFetch   = 0x01
	atomicXchg    = 0xe0 | atomicFetch
	atomicCmpXchg = 0xf0 | atomicFetch
	atomicLoadAcq = 0x100
	atomicStoreRl = 0x110

	pseudoMapFD       = 1
	pseudoMapValue    = 2
	pseudoBTFID       = 3
	pseudoFunc        = 4
	pseudoMapIdx      = 5
	pseudoMapIdxValue = 6

	pseudoCall      = 1
	pseudoKfuncCall = 2
	pseudoMayGoto   = 0

	offAddrSpaceCast = 1
	offPercpuAddr    = -1
)

// Raw is one instruction in its wire encoding, the shape the kernel's
// disassembler works on. For a 64-bit immediate load (ldimm64) Imm2 holds the
// second slot's immediate and Wide is true.
type Raw struct {
	Code uint8
	Dst  uint8
	Src  uint8
	Off  int16
	Imm  int32
	Wide bool
	Imm2 int32
}

// Class returns the instruction class (the low three bits of the opcode).
func (r Raw) Class() uint8 { return r.Code & 0x07 }

// Slots returns how many 8-byte slots the instruction takes: 2 for ldimm64.
func (r Raw) Slots() int {
	if r.Wide {
		return 2
	}
	return 1
}

// Bytes returns the little-endian encoding, 8 or 16 bytes.
func (r Raw) Bytes() []byte { return r.BytesOrder(binary.LittleEndian) }

// BytesOrder returns the encoding in byte order bo. Big-endian BPF
// (clang -target bpfeb) has the 16- and 32-bit fields big-endian and the
// register nibbles the other way round: dst in the high four bits.
func (r Raw) BytesOrder(bo binary.ByteOrder) []byte {
	b := make([]byte, 8*r.Slots())
	b[0] = r.Code
	if bo == binary.BigEndian {
		b[1] = r.Dst<<4 | r.Src&0x0f
	} else {
		b[1] = r.Dst&0x0f | r.Src<<4
	}
	bo.PutUint16(b[2:], uint16(r.Off))
	bo.PutUint32(b[4:], uint32(r.Imm))
	if r.Wide {
		bo.PutUint32(b[12:], uint32(r.Imm2))
	}
	return b
}

// Imm64 returns the full immediate of an ldimm64.
func (r Raw) Imm64() uint64 {
	return uint64(uint32(r.Imm2))<<32 | uint64(uint32(r.Imm))
}

// isLdImm64 reports whether code is BPF_LD | BPF_IMM | BPF_DW.
func isLdImm64(code uint8) bool { return code == classLD|modeIMM|sizeDW }

// Encode turns a cilium/ebpf instruction back into its wire encoding. It
// undoes cilium's extended opcodes (signed division, sign-extending moves,
// atomic operations) and, unlike Instruction.Marshal, accepts the negative
// helper immediates that translated code contains.
func Encode(ins ebpfasm.Instruction) (Raw, error) {
	op := ins.OpCode
	if op == ebpfasm.InvalidOpCode {
		return Raw{}, errors.New("invalid opcode")
	}
	if ins.Dst > 15 || ins.Src > 15 {
		return Raw{}, fmt.Errorf("register out of range: dst %d src %d", ins.Dst, ins.Src)
	}
	r := Raw{Dst: uint8(ins.Dst), Src: uint8(ins.Src), Off: ins.Offset, Imm: int32(ins.Constant)}
	switch {
	case op.Class().IsALU():
		switch op.ALUOp() {
		case ebpfasm.SDiv:
			op, r.Off = op.SetALUOp(ebpfasm.Div), 1
		case ebpfasm.SMod:
			op, r.Off = op.SetALUOp(ebpfasm.Mod), 1
		case ebpfasm.MovSX8:
			op, r.Off = op.SetALUOp(ebpfasm.Mov), 8
		case ebpfasm.MovSX16:
			op, r.Off = op.SetALUOp(ebpfasm.Mov), 16
		case ebpfasm.MovSX32:
			op, r.Off = op.SetALUOp(ebpfasm.Mov), 32
		}
	case op.Class() == ebpfasm.StXClass && op.Mode() == ebpfasm.AtomicMode:
		// cilium keeps the atomic operation in the extended opcode; code
		// built field by field keeps it in the immediate.
		if op>>8 != 0 {
			r.Imm = int32((op >> 8) & 0x1ff)
		}
		op &= 0xff
	}
	if op > 0xff {
		return Raw{}, fmt.Errorf("opcode %#x does not fit in a byte", uint32(op))
	}
	r.Code = uint8(op)
	if isLdImm64(r.Code) {
		r.Wide = true
		r.Imm = int32(uint32(ins.Constant))
		r.Imm2 = int32(uint32(uint64(ins.Constant) >> 32))
	}
	return r, nil
}

// Decode reads raw little-endian instructions, as the kernel returns them or
// as they sit in an ELF section. A truncated ldimm64 is an error.
func Decode(b []byte) ([]Raw, error) { return DecodeOrder(b, binary.LittleEndian) }

// DecodeOrder reads raw instructions in byte order bo (see BytesOrder).
func DecodeOrder(b []byte, bo binary.ByteOrder) ([]Raw, error) {
	big := bo == binary.BigEndian
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("decode instructions: %d bytes is not a multiple of 8", len(b))
	}
	var out []Raw
	for i := 0; i < len(b); i += 8 {
		r := Raw{
			Code: b[i],
			Dst:  b[i+1] & 0x0f,
			Src:  b[i+1] >> 4,
			Off:  int16(bo.Uint16(b[i+2:])),
			Imm:  int32(bo.Uint32(b[i+4:])),
		}
		if big {
			r.Dst, r.Src = b[i+1]>>4, b[i+1]&0x0f
		}
		if isLdImm64(r.Code) {
			if i+16 > len(b) {
				return nil, fmt.Errorf("decode instructions: ldimm64 at %d lacks its second half", i/8)
			}
			r.Wide = true
			r.Imm2 = int32(bo.Uint32(b[i+12:]))
			i += 8
		}
		out = append(out, r)
	}
	return out, nil
}
