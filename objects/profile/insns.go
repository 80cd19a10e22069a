package profile

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// The profiler's programs, as bpftool's profiler.bpf.c does it, unrolled
// for the metrics asked. Stack: the readings of up to four metrics at
// fp-24*(i+1) (fp-96 to fp-1), the fentry value pointers at fp-104-8*i
// (fp-128 to fp-97), a map key at fp-136: no two overlap.

const keySlot = -136

func readingSlot(i int) int16 { return int16(-valueSize * (i + 1)) }
func pointerSlot(i int) int16 { return int16(-104 - 8*i) }

// lookup emits r0 = bpf_map_lookup_elem(m, &key) with key = i.
func lookup(mapFD int, i int) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, keySlot, int64(i), asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, keySlot),
		asm.LoadMapPtr(asm.R1, mapFD),
		asm.FnMapLookupElem.Call(),
	}
}

// readValue emits r0 = bpf_perf_event_read_value(events, cpu, r3, 24),
// with r6 the CPU and r3 already the buffer.
func readValue(eventsFD int) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, eventsFD),
		asm.Mov.Reg(asm.R2, asm.R6),
		asm.Mov.Imm(asm.R4, valueSize),
		asm.FnPerfEventReadValue.Call(),
	}
}

var exit = asm.Instructions{asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"), asm.Return()}

// fentryInsns reads each metric's counter on this CPU into
// fentry_readings, looking up every slot first so that the reads come
// close together.
func (s *Session) fentryInsns() asm.Instructions {
	insns := asm.Instructions{
		asm.FnGetSmpProcessorId.Call(),
		asm.Mov.Reg(asm.R6, asm.R0),
	}
	for i := range s.metrics {
		insns = append(insns, lookup(s.fentry.FD(), i)...)
		insns = append(insns,
			asm.JEq.Imm(asm.R0, 0, "exit"),
			asm.StoreMem(asm.R10, pointerSlot(i), asm.R0, asm.DWord))
	}
	for i := range s.metrics {
		insns = append(insns, asm.LoadMem(asm.R3, asm.R10, pointerSlot(i), asm.DWord))
		insns = append(insns, readValue(s.events[i].FD())...)
		insns = append(insns, asm.JNE.Imm(asm.R0, 0, "exit"))
	}
	return append(insns, exit...)
}

// fexitInsns reads every counter again, counts the run, and adds each
// difference from the fentry reading to accum_readings (only when there
// is a fentry reading).
func (s *Session) fexitInsns() asm.Instructions {
	insns := asm.Instructions{
		asm.FnGetSmpProcessorId.Call(),
		asm.Mov.Reg(asm.R6, asm.R0),
	}
	for i := range s.metrics {
		insns = append(insns, asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, int32(readingSlot(i))))
		insns = append(insns, readValue(s.events[i].FD())...)
		insns = append(insns, asm.JNE.Imm(asm.R0, 0, "exit"))
	}
	insns = append(insns, lookup(s.counts.FD(), 0)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "exit"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
	for i := range s.metrics {
		next := fmt.Sprintf("next%d", i)
		insns = append(insns, lookup(s.fentry.FD(), i)...)
		insns = append(insns,
			asm.JEq.Imm(asm.R0, 0, next),
			asm.Mov.Reg(asm.R7, asm.R0),
			asm.LoadMem(asm.R1, asm.R7, 0, asm.DWord),
			asm.JEq.Imm(asm.R1, 0, next))
		insns = append(insns, lookup(s.accum.FD(), i)...)
		insns = append(insns, asm.JEq.Imm(asm.R0, 0, next))
		for f := int16(0); f < valueSize; f += 8 {
			insns = append(insns,
				asm.LoadMem(asm.R1, asm.R10, readingSlot(i)+f, asm.DWord),
				asm.LoadMem(asm.R2, asm.R7, f, asm.DWord),
				asm.Sub.Reg(asm.R1, asm.R2),
				asm.LoadMem(asm.R3, asm.R0, f, asm.DWord),
				asm.Add.Reg(asm.R3, asm.R1),
				asm.StoreMem(asm.R0, f, asm.R3, asm.DWord))
		}
		// The label sits on the next instruction: a no-op move.
		insns = append(insns, asm.Mov.Reg(asm.R0, asm.R0).WithSymbol(next))
	}
	return append(insns, exit...)
}
