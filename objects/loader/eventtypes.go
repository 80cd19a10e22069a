package loader

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// outputCall is one call of an output helper found in a program: the map it
// writes to and the record size it passes, when both are constants.
type outputCall struct {
	Map  string
	Size int64
}

// outputCalls scans instructions for bpf_ringbuf_reserve,
// bpf_ringbuf_output and bpf_perf_event_output and returns the map and the
// constant size each call uses. The register tracking is linear and
// forgets everything at jump targets, which is enough for how clang emits
// these calls.
func outputCalls(insns ebpfasm.Instructions) []outputCall {
	type val struct {
		mapName string
		imm     int64
		known   bool
	}
	var regs [11]val
	var out []outputCall
	for i := range insns {
		ins := &insns[i]
		if ins.Symbol() != "" {
			regs = [11]val{}
		}
		dst := ins.Dst
		switch {
		case ins.IsBuiltinCall():
			var mapReg, sizeReg ebpfasm.Register
			switch ebpfasm.BuiltinFunc(ins.Constant) {
			case ebpfasm.FnRingbufReserve:
				mapReg, sizeReg = ebpfasm.R1, ebpfasm.R2
			case ebpfasm.FnRingbufOutput:
				mapReg, sizeReg = ebpfasm.R1, ebpfasm.R3
			case ebpfasm.FnPerfEventOutput:
				mapReg, sizeReg = ebpfasm.R2, ebpfasm.R5
			default:
				mapReg = 0xff
			}
			if mapReg != 0xff && regs[mapReg].mapName != "" && regs[sizeReg].known {
				out = append(out, outputCall{Map: regs[mapReg].mapName, Size: regs[sizeReg].imm})
			}
			for r := ebpfasm.R0; r <= ebpfasm.R5; r++ {
				regs[r] = val{}
			}
		case ins.IsLoadFromMap() && ins.Reference() != "":
			regs[dst] = val{mapName: ins.Reference()}
		case ins.OpCode.Class().IsALU() && ins.OpCode.ALUOp() == ebpfasm.Mov:
			if ins.OpCode.Source() == ebpfasm.ImmSource {
				regs[dst] = val{imm: ins.Constant, known: true}
			} else if ins.Src <= ebpfasm.R10 {
				regs[dst] = regs[ins.Src]
			}
		case ins.OpCode.Class().IsALU() || ins.OpCode.Class().IsLoad():
			if dst <= ebpfasm.R10 {
				regs[dst] = val{}
			}
		case ins.IsFunctionCall() || ins.IsKfuncCall():
			for r := ebpfasm.R0; r <= ebpfasm.R5; r++ {
				regs[r] = val{}
			}
		}
	}
	return out
}

// EventTypes guesses the BTF struct of the records of each ring buffer and
// perf event array of obj: the programs must pass one constant size to the
// output helpers for that map, and exactly one named struct of the
// object's BTF must have that size (a struct named "event" wins a tie).
// Maps without a guess are absent.
func EventTypes(obj *Object) map[string]*ebpfbtf.Struct {
	sizes := map[string]map[int64]bool{}
	for _, ps := range obj.Spec.Programs {
		for _, c := range outputCalls(ps.Instructions) {
			ms := obj.Spec.Maps[c.Map]
			if ms == nil || (ms.Type != ebpf.RingBuf && ms.Type != ebpf.PerfEventArray) {
				continue
			}
			if sizes[c.Map] == nil {
				sizes[c.Map] = map[int64]bool{}
			}
			sizes[c.Map][c.Size] = true
		}
	}
	out := map[string]*ebpfbtf.Struct{}
	if obj.Spec.Types == nil {
		return out
	}
	bySize := map[int64][]*ebpfbtf.Struct{}
	for typ, err := range obj.Spec.Types.All() {
		if err != nil {
			break
		}
		if st, ok := typ.(*ebpfbtf.Struct); ok && st.Name != "" {
			bySize[int64(st.Size)] = append(bySize[int64(st.Size)], st)
		}
	}
	for m, set := range sizes {
		if len(set) != 1 {
			continue
		}
		var size int64
		for s := range set {
			size = s
		}
		cands := bySize[size]
		switch {
		case len(cands) == 1:
			out[m] = cands[0]
		case len(cands) > 1:
			for _, c := range cands {
				if c.Name == "event" {
					out[m] = c
				}
			}
		}
	}
	return out
}

// EventType finds the struct named name in obj's BTF, for --event-type.
func EventType(obj *Object, name string) (*ebpfbtf.Struct, error) {
	if obj.Spec.Types == nil {
		return nil, fmt.Errorf("struct %s: the object has no BTF", name)
	}
	var st *ebpfbtf.Struct
	if err := obj.Spec.Types.TypeByName(strings.TrimPrefix(name, "struct "), &st); err != nil {
		var names []string
		for typ, err := range obj.Spec.Types.All() {
			if err != nil {
				break
			}
			if s, ok := typ.(*ebpfbtf.Struct); ok && s.Name != "" {
				names = append(names, s.Name)
			}
		}
		sort.Strings(names)
		return nil, fmt.Errorf("struct %s: not in the object's BTF (structs: %s)", strings.TrimPrefix(name, "struct "), strings.Join(names, ", "))
	}
	return st, nil
}
