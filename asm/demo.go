package asm

import (
	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
)

// Names of the demo's objects in the kernel, so a user recognises them in
// `bpfkit prog show` and `bpfkit map show`.
const (
	DemoProgName = "bpfkit_demo"
	DemoMapName  = "bpfkit_events"
	// DemoValue is what the demo writes on every openat.
	DemoValue = 123
)

// DemoInstructions is the teaching demo, written by hand the way the
// cilium/ebpf tracepoint example is: it stores DemoValue on the stack and
// sends those four bytes to the perf event array DemoMapName on the
// current CPU.
//
// A tracepoint program is called with its context in r1, which
// bpf_perf_event_output takes as its first argument unchanged.
func DemoInstructions() ebpfasm.Instructions {
	return ebpfasm.Instructions{
		// *(u32 *)(r10 - 8) = 123: the record, on the stack.
		ebpfasm.Mov.Imm(ebpfasm.R2, DemoValue).WithSymbol(DemoProgName),
		ebpfasm.StoreMem(ebpfasm.RFP, -8, ebpfasm.R2, ebpfasm.Word),
		// r2 = the perf event array (filled in when the map is created).
		ebpfasm.LoadMapPtr(ebpfasm.R2, 0).WithReference(DemoMapName),
		// r3 = BPF_F_CURRENT_CPU: write to this CPU's ring.
		ebpfasm.LoadImm(ebpfasm.R3, 0xffffffff, ebpfasm.DWord),
		// r4 = r10 - 8, r5 = 4: the record's address and size.
		ebpfasm.Mov.Reg(ebpfasm.R4, ebpfasm.RFP),
		ebpfasm.Add.Imm(ebpfasm.R4, -8),
		ebpfasm.Mov.Imm(ebpfasm.R5, 4),
		// bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, r10 - 8, 4)
		ebpfasm.FnPerfEventOutput.Call(),
		// return 0
		ebpfasm.Mov.Imm(ebpfasm.R0, 0),
		ebpfasm.Return(),
	}
}

// DemoSpec is the demo as a collection: the perf event array and the GPL
// tracepoint program that writes to it (bpf_perf_event_output is GPL-only).
func DemoSpec() *ebpf.CollectionSpec {
	return &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			DemoMapName: {Name: DemoMapName, Type: ebpf.PerfEventArray},
		},
		Programs: map[string]*ebpf.ProgramSpec{
			DemoProgName: {
				Name:         DemoProgName,
				Type:         ebpf.TracePoint,
				License:      "GPL",
				Instructions: DemoInstructions(),
			},
		},
	}
}
