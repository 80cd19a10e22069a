package features

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// The newest program and map types cilium/ebpf v0.22 has probes for;
// newer ones are probed here.
const (
	lastCiliumProgType = ebpf.Netfilter
	lastCiliumMapType  = ebpf.Arena
)

// haveBPFSyscall reports whether bpf() exists: any answer but ENOSYS to a
// load without attributes.
func haveBPFSyscall() bool {
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, 0, 0)
	return errno != unix.ENOSYS
}

// returnZero is the program a type probe loads: r0 = 0; exit.
var returnZero = ebpfasm.Instructions{ebpfasm.Mov.Imm(ebpfasm.R0, 0), ebpfasm.Return()}

func haveProgType(pt ebpf.ProgramType) bool {
	if pt <= lastCiliumProgType {
		return available(features.HaveProgramType(pt))
	}
	return loads(&ebpf.ProgramSpec{Type: pt, Instructions: returnZero, License: "GPL"})
}

func haveMapType(mt ebpf.MapType) bool {
	if mt <= lastCiliumMapType {
		return available(features.HaveMapType(mt))
	}
	return createMap(mt, 0) == nil
}

// haveHelper probes one helper for one program type as bpftool does: it
// loads a program that calls the helper and reads the verifier's answer.
// "invalid func" (the kernel does not know the helper) and "program of
// this type cannot use helper" mean no; any other refusal by the verifier
// (wrong arguments, "helper call might sleep in a non-sleepable prog")
// means the verifier knows the helper for this type, so it is available.
// A refusal before the verifier (EPERM for an unprivileged user) means no.
// The types that need an attach target (tracing, ext, lsm, struct_ops)
// cannot be probed so; bpftool reports no helpers for them either.
func haveHelper(pt ebpf.ProgramType, id ebpfasm.BuiltinFunc) bool {
	switch pt {
	case ebpf.Tracing, ebpf.Extension, ebpf.LSM, ebpf.StructOps:
		return false
	}
	return probeHelper(loadFor(pt, 0), id)
}

// logBufs are verifier log buffers for helper probes, one per worker at a
// time; 4 KiB holds the log of a two-instruction program.
var logBufs = sync.Pool{New: func() any { return new([4096]byte) }}

// helperRefusals are the verifier's (and nfp firmware's) words for a
// helper that a program type cannot call.
var helperRefusals = []string{
	"invalid func ", "unknown func ", "program of this type cannot use helper ",
	"not supported by FW", "unsupported function id",
}

func probeHelper(l probeLoad, id ebpfasm.BuiltinFunc) bool {
	buf := logBufs.Get().(*[4096]byte)
	defer logBufs.Put(buf)
	err := rawLoad(l, callAndExit(id), buf[:])
	if err == nil {
		return true
	}
	log, _, _ := bytes.Cut(buf[:], []byte{0})
	// Still interrupted after the retries: the log has no verdict.
	if len(log) == 0 || errors.Is(err, unix.EAGAIN) {
		return false
	}
	for _, no := range helperRefusals {
		if bytes.Contains(log, []byte(no)) {
			return false
		}
	}
	return true
}

// loads reports whether the kernel accepts spec.
func loads(spec *ebpf.ProgramSpec) bool {
	prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return false
	}
	prog.Close()
	return true
}

// miscFeatures are bpftool's misc features, in its order.
func miscFeatures() []Misc {
	return []Misc{
		{Key: "have_large_insn_limit", Plain: "Large program size limit", Define: "LARGE_INSN_LIMIT"},
		{Key: "have_bounded_loops", Plain: "Bounded loop support", Define: "BOUNDED_LOOPS"},
		{Key: "have_v2_isa_extension", Plain: "ISA extension v2", Define: "V2_ISA_EXTENSION"},
		{Key: "have_v3_isa_extension", Plain: "ISA extension v3", Define: "V3_ISA_EXTENSION"},
		{Key: "have_v4_isa_extension", Plain: "ISA extension v4", Define: "V4_ISA_EXTENSION"},
	}
}

// miscProbes answers each misc feature with cilium/ebpf's probe.
var miscProbes = map[string]func() bool{
	"have_large_insn_limit": func() bool { return available(features.HaveLargeInstructions()) },
	"have_bounded_loops":    func() bool { return available(features.HaveBoundedLoops()) },
	"have_v2_isa_extension": func() bool { return available(features.HaveV2ISA()) },
	"have_v3_isa_extension": func() bool { return available(features.HaveV3ISA()) },
	"have_v4_isa_extension": func() bool { return available(features.HaveV4ISA()) },
}

// probeDevice probes what a network device can offload: bpftool's
// `feature probe dev IF` (program types sched_cls and xdp, map types hash
// and array, their helpers, the misc features). A device that offloads
// nothing is an error.
func probeDevice(opts Options) (*Report, error) {
	iface, err := net.InterfaceByName(opts.Dev)
	if err != nil {
		return nil, fmt.Errorf("unrecognized netdevice '%s': %w", opts.Dev, unix.ENODEV)
	}
	ifindex := uint32(iface.Index)
	if err := offloadLoad(ebpf.XDP, ifindex, offloadReturn); err != nil {
		return nil, fmt.Errorf("device '%s' cannot offload BPF programs (the kernel refused an XDP program bound to it: %w)", opts.Dev, err)
	}
	r := &Report{Syscall: true}
	for _, pt := range []ebpf.ProgramType{ebpf.SchedCLS, ebpf.XDP} {
		name := ebpfTypeName(pt)
		ok := offloadLoad(pt, ifindex, offloadReturn) == nil
		r.ProgTypes = append(r.ProgTypes, Availability{name, ok})
		set := HelperSet{ProgType: name, TypeAvailable: ok}
		for _, id := range helperIDs(opts.Full) {
			h := HelperResult{Name: helperName(id)}
			h.Available = ok && probeHelper(probeLoad{Type: pt, Ifindex: ifindex}, id)
			set.Probed = append(set.Probed, h)
			if h.Available {
				set.Helpers = append(set.Helpers, h.Name)
			}
		}
		r.Helpers = append(r.Helpers, set)
	}
	for _, mt := range []ebpf.MapType{ebpf.Hash, ebpf.Array} {
		r.MapTypes = append(r.MapTypes, Availability{mapTypeName(mt), createMap(mt, ifindex) == nil})
	}
	r.Misc = miscFeatures()
	for i := range r.Misc {
		err := offloadLoad(ebpf.SocketFilter, ifindex, miscProgram(r.Misc[i].Key))
		r.Misc[i].Available = err == nil
	}
	return r, nil
}

// offloadReturn is the program an offload probe loads: nfp refuses
// exit(0) for tc, so it returns 2.
var offloadReturn = ebpfasm.Instructions{ebpfasm.Mov.Imm(ebpfasm.R0, 2), ebpfasm.Return()}

// offloadLoad loads insns as a program of type pt offloaded to ifindex.
func offloadLoad(pt ebpf.ProgramType, ifindex uint32, insns ebpfasm.Instructions) error {
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type: pt, Instructions: insns, License: "GPL", Ifindex: ifindex,
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return err
	}
	return prog.Close()
}
