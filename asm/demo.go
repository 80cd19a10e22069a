package asm

import (
	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	ebpfbtf "github.com/cilium/ebpf/btf"
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
// current CPU. Comments on the instructions explain each step; listings
// print them as source lines.
//
// A tracepoint program is called with its context in r1, which
// bpf_perf_event_output takes as its first argument unchanged.
func DemoInstructions() ebpfasm.Instructions {
	say := func(ins ebpfasm.Instruction, comment string) ebpfasm.Instruction {
		return ins.WithSource(ebpfasm.Comment(comment))
	}
	return ebpfasm.Instructions{
		say(ebpfbtf.WithFuncMetadata(ebpfasm.Mov.Imm(ebpfasm.R2, DemoValue).WithSymbol(DemoProgName), demoFunc),
			"r2 = 123: the value to send"),
		say(ebpfasm.StoreMem(ebpfasm.RFP, -8, ebpfasm.R2, ebpfasm.Word),
			"store it on the stack: r10 is the read-only frame pointer"),
		say(ebpfasm.LoadMapPtr(ebpfasm.R2, 0).WithReference(DemoMapName),
			"arg 2: the perf event array (the loader puts the map here)"),
		say(ebpfasm.LoadImm(ebpfasm.R3, 0xffffffff, ebpfasm.DWord),
			"arg 3: BPF_F_CURRENT_CPU, this CPU's ring"),
		say(ebpfasm.Mov.Reg(ebpfasm.R4, ebpfasm.RFP),
			"arg 4: the address of the value, r10 - 8"),
		ebpfasm.Add.Imm(ebpfasm.R4, -8),
		say(ebpfasm.Mov.Imm(ebpfasm.R5, 4),
			"arg 5: its size, 4 bytes (arg 1, ctx, is still in r1)"),
		say(ebpfasm.FnPerfEventOutput.Call(),
			"bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, r10 - 8, 4)"),
		say(ebpfasm.Mov.Imm(ebpfasm.R0, 0),
			"return 0"),
		ebpfasm.Return(),
	}
}

// demoFunc is the demo's BTF function, int bpfkit_demo(void *ctx), so that
// listings of the loaded program have a proper header.
var demoFunc = &ebpfbtf.Func{
	Name: DemoProgName,
	Type: &ebpfbtf.FuncProto{
		Return: &ebpfbtf.Int{Name: "int", Size: 4, Encoding: ebpfbtf.Signed},
		Params: []ebpfbtf.FuncParam{{Name: "ctx", Type: &ebpfbtf.Pointer{Target: &ebpfbtf.Void{}}}},
	},
	Linkage: ebpfbtf.StaticFunc,
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
