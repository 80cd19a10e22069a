package features

// The raw bpf(2) calls this package makes, each with its own zeroed
// struct:
//   - BPF_PROG_LOAD of the two-instruction helper probes with a small
//     verifier log buffer that each worker reuses. cilium/ebpf allocates at
//     least 64 KiB of log per load, which makes its helper probe three
//     times slower in the kernel; a full probe makes thousands of them.
//   - BPF_MAP_CREATE with a map type cilium/ebpf may not know, or bound to
//     a device (map_ifindex), which cilium/ebpf's MapSpec does not expose.

import (
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/objects"

	ebpfasm "github.com/cilium/ebpf/asm"
)

// mapCreateAttr mirrors the BPF_MAP_CREATE part of union bpf_attr up to
// map_ifindex.
type mapCreateAttr struct {
	MapType    uint32
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	MapFlags   uint32
	InnerMapFD uint32
	NumaNode   uint32
	MapName    [16]byte
	MapIfindex uint32
}

// createMap creates and closes a map of type mt with 4-byte keys and
// values and one entry, bound to ifindex when it is not 0.
func createMap(mt ebpf.MapType, ifindex uint32) error {
	attr := mapCreateAttr{MapType: uint32(mt), KeySize: 4, ValueSize: 4, MaxEntries: 1, MapIfindex: ifindex}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return errno
	}
	return unix.Close(int(fd))
}

func ebpfTypeName(pt ebpf.ProgramType) string { return objects.ProgTypeName(pt).String() }
func mapTypeName(mt ebpf.MapType) string      { return objects.MapTypeName(mt).String() }
func helperName(id ebpfasm.BuiltinFunc) string {
	return bpfasm.HelperName(int32(id))
}

// miscProgram is the program bpftool loads for the misc feature key; a
// device probe loads it bound to the device. They are made when asked
// for: the large one is 4,097 instructions, too much for every start of
// bpfkit to build.
func miscProgram(key string) ebpfasm.Instructions {
	switch key {
	case "have_large_insn_limit":
		return largeProgram()
	case "have_bounded_loops":
		return ebpfasm.Instructions{
			ebpfasm.Mov.Imm(ebpfasm.R0, 10),
			ebpfasm.Sub.Imm(ebpfasm.R0, 1).WithSymbol("loop"),
			ebpfasm.JNE.Imm(ebpfasm.R0, 0, "loop"),
			ebpfasm.Return(),
		}
	case "have_v2_isa_extension":
		return ebpfasm.Instructions{
			ebpfasm.Mov.Imm(ebpfasm.R0, 0),
			ebpfasm.JLT.Imm(ebpfasm.R0, 0, "exit"),
			ebpfasm.Mov.Imm(ebpfasm.R0, 1),
			ebpfasm.Return().WithSymbol("exit"),
		}
	case "have_v3_isa_extension":
		return ebpfasm.Instructions{
			ebpfasm.Mov.Imm(ebpfasm.R0, 0),
			ebpfasm.JLT.Imm32(ebpfasm.R0, 0, "exit"),
			ebpfasm.Mov.Imm(ebpfasm.R0, 1),
			ebpfasm.Return().WithSymbol("exit"),
		}
	case "have_v4_isa_extension":
		return ebpfasm.Instructions{
			ebpfasm.Mov.Imm(ebpfasm.R0, 0),
			ebpfasm.JEq.Imm32(ebpfasm.R0, 1, "one"),
			ebpfasm.LongJump("exit"),
			ebpfasm.Mov.Imm(ebpfasm.R0, 1).WithSymbol("one"),
			ebpfasm.Return().WithSymbol("exit"),
		}
	}
	return nil
}

// largeProgram is 4096 moves and an exit: one instruction more than the
// old limit.
func largeProgram() ebpfasm.Instructions {
	insns := make(ebpfasm.Instructions, 4096, 4097)
	for i := range insns {
		insns[i] = ebpfasm.Mov.Imm(ebpfasm.R0, 1)
	}
	return append(insns, ebpfasm.Return())
}

// probeLoad describes a program type's load attributes for a probe.
type probeLoad struct {
	Type       ebpf.ProgramType
	AttachType ebpf.AttachType
	Flags      uint32
	Ifindex    uint32
}

// loadFor returns what a program of type pt needs to load at all: the
// attach type or flags the kernel requires of it.
func loadFor(pt ebpf.ProgramType, ifindex uint32) probeLoad {
	l := probeLoad{Type: pt, Ifindex: ifindex}
	switch pt {
	case ebpf.CGroupSockAddr:
		l.AttachType = ebpf.AttachCGroupInet4Connect
	case ebpf.CGroupSockopt:
		l.AttachType = ebpf.AttachCGroupGetsockopt
	case ebpf.SkLookup:
		l.AttachType = ebpf.AttachSkLookup
	case ebpf.Netfilter:
		l.AttachType = ebpf.AttachNetfilter
	case ebpf.Syscall:
		l.Flags = unix.BPF_F_SLEEPABLE
	}
	return l
}

// rawLoad loads insns (raw 8-byte instructions) and closes the program;
// when log is not empty the verifier writes its log there (level 1).
func rawLoad(l probeLoad, insns []uint64, log []byte) error {
	code := unsafe.Slice((*byte)(unsafe.Pointer(&insns[0])), len(insns)*8)
	err := objects.LoadRaw(objects.RawProgram{
		Type: uint32(l.Type), AttachType: uint32(l.AttachType), Flags: l.Flags, Ifindex: l.Ifindex,
		Insns: code, License: "GPL",
	}, log)
	runtime.KeepAlive(insns)
	return err
}

// callAndExit is bpftool's helper probe: call id; exit.
func callAndExit(id ebpfasm.BuiltinFunc) []uint64 {
	const call, exit = 0x85, 0x95
	return []uint64{call | uint64(uint32(id))<<32, exit}
}
