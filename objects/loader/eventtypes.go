package loader

import (
	"debug/dwarf"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// outputCall is one call of an output helper found in a program: the map it
// writes to and the record size it passes, when both are constants.
type outputCall struct {
	Map  string
	Size int64
	// Func is the function that makes the call: the program's own, or a
	// subprogram it calls.
	Func string
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
	fn := ""
	for i := range insns {
		ins := &insns[i]
		if ins.Symbol() != "" {
			regs = [11]val{}
			fn = ins.Symbol()
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
				out = append(out, outputCall{Map: regs[mapReg].mapName, Size: regs[sizeReg].imm, Func: fn})
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

// EventDecoding says how the records of each ring buffer and perf event
// array of an object are decoded.
type EventDecoding struct {
	// Types holds the type of each map's records.
	Types map[string]ebpfbtf.Type
	// From says where each type was found: "BTF", "DWARF" or
	// "--event-type".
	From map[string]string
	// Hex says, for each map without a type, why its records print in
	// hex and what to do about it.
	Hex map[string]string
}

// EventTypes finds the type of the records of each ring buffer and perf
// event array of obj. Each --event-type spec ([MAP=]NAME, see EventType)
// names one; otherwise the programs' bpf_ringbuf_reserve,
// bpf_ringbuf_output and bpf_perf_event_output calls must pass one
// constant size for the map, and the type is, in this order:
//
//   - a struct of that size that the calling function holds in a local
//     variable or points to with one (`struct event e = {}` or `e =
//     bpf_ringbuf_reserve(...)`), from the object's DWARF; clang leaves
//     such structs out of BTF, so this needs -g, not an unused global;
//   - the one named struct of that size in the object's BTF ("event"
//     wins a tie);
//   - the one named struct of that size in the object's DWARF.
//
// The BTF struct of the same name and size is used wherever there is one.
func EventTypes(obj *Object, specs []string) (EventDecoding, error) {
	d := EventDecoding{Types: map[string]ebpfbtf.Type{}, From: map[string]string{}, Hex: map[string]string{}}
	for _, spec := range specs {
		mapName, name, one := strings.Cut(spec, "=")
		if !one {
			name = spec
		} else if ms := obj.Spec.Maps[mapName]; ms == nil || !isEventMap(ms.Type) {
			return d, fmt.Errorf("--event-type %s: no ring buffer or perf event array %s in the object", spec, mapName)
		}
		t, err := EventType(obj, name)
		if err != nil {
			return d, fmt.Errorf("--event-type: %w", err)
		}
		for _, m := range obj.Maps {
			if (!one || m == mapName) && isEventMap(obj.Spec.Maps[m].Type) {
				d.Types[m], d.From[m] = t, "--event-type"
			}
		}
	}

	calls := map[string][]outputCall{}
	for _, name := range obj.Programs {
		for _, c := range outputCalls(obj.Spec.Programs[name].Instructions) {
			calls[c.Map] = append(calls[c.Map], c)
		}
	}
	dbg, dwarfErr := obj.debug()
	for _, m := range obj.Maps {
		ms := obj.Spec.Maps[m]
		if !isEventMap(ms.Type) || d.Types[m] != nil {
			continue
		}
		sizes := map[int64]bool{}
		for _, c := range calls[m] {
			sizes[c.Size] = true
		}
		if len(sizes) != 1 {
			why := "no bpf_ringbuf_output, bpf_ringbuf_reserve or bpf_perf_event_output call with a constant size writes to it"
			if len(sizes) > 1 {
				why = fmt.Sprintf("the programs write records of %d different sizes to it", len(sizes))
			}
			d.Hex[m] = why + "; name the type with --event-type " + m + "=TYPE"
			continue
		}
		size := calls[m][0].Size
		var fns []string
		for _, c := range calls[m] {
			fns = append(fns, c.Func)
		}
		t, from := findEventType(obj, dbg, size, fns)
		if t != nil {
			d.Types[m], d.From[m] = t, from
			continue
		}
		where := "the object's BTF has no struct of " + strconv.FormatInt(size, 10) + " bytes"
		if dwarfErr != nil {
			where += " and its DWARF cannot help: " + dwarfErr.Error()
		} else {
			where += " and neither has its DWARF"
		}
		d.Hex[m] = where + "; name the type with --event-type " + m + "=TYPE, or rebuild the object with -g"
	}
	return d, nil
}

func isEventMap(t ebpf.MapType) bool { return t == ebpf.RingBuf || t == ebpf.PerfEventArray }

// findEventType finds the struct of size bytes that functions fns write
// to an event map (see EventTypes), and says where it was found.
func findEventType(obj *Object, dbg *elfobj.Debug, size int64, fns []string) (ebpfbtf.Type, string) {
	btfBySize := map[string]*ebpfbtf.Struct{}
	var btfNames []string
	if obj.Spec.Types != nil {
		for typ, err := range obj.Spec.Types.All() {
			if err != nil {
				break
			}
			if st, ok := typ.(*ebpfbtf.Struct); ok && st.Name != "" && int64(st.Size) == size && btfBySize[st.Name] == nil {
				btfBySize[st.Name] = st
				btfNames = append(btfNames, st.Name)
			}
		}
	}
	// fromDWARF prefers the BTF struct of the same name.
	fromDWARF := func(dt dwarf.Type) (ebpfbtf.Type, string) {
		if st := btfBySize[dwarfRecordName(dt)]; st != nil {
			return st, "BTF"
		}
		if bt, err := btf.FromDWARF(dt); err == nil {
			return bt, "DWARF"
		}
		return nil, ""
	}
	if dbg != nil {
		var locals []dwarf.Type
		seen := map[string]bool{}
		for _, fn := range fns {
			for _, lt := range dbg.LocalTypes(fn) {
				rt := recordOf(lt)
				if rt != nil && rt.Size() == size && !seen[dwarfRecordName(rt)] {
					seen[dwarfRecordName(rt)] = true
					locals = append(locals, rt)
				}
			}
		}
		if dt := pickEvent(locals, dwarfRecordName); dt != nil {
			if t, from := fromDWARF(dt); t != nil {
				return t, from
			}
		}
	}
	if name := pickEvent(btfNames, func(n string) string { return n }); name != "" {
		return btfBySize[name], "BTF"
	}
	if dbg != nil {
		if dt := pickEvent(dbg.Records(size), dwarfRecordName); dt != nil {
			return fromDWARF(dt)
		}
	}
	return nil, ""
}

// pickEvent returns the one candidate, or the one named "event" among
// several, or the zero value.
func pickEvent[T comparable](cands []T, name func(T) string) T {
	var zero T
	if len(cands) == 1 {
		return cands[0]
	}
	for _, c := range cands {
		if name(c) == "event" {
			return c
		}
	}
	return zero
}

// recordOf returns the named struct or union t is, or points to, through
// typedefs and qualifiers; nil for anything else.
func recordOf(t dwarf.Type) dwarf.Type {
	pointed := false
	for range 16 {
		switch v := t.(type) {
		case *dwarf.TypedefType:
			t = v.Type
		case *dwarf.QualType:
			t = v.Type
		case *dwarf.PtrType:
			if pointed {
				return nil
			}
			pointed, t = true, v.Type
		case *dwarf.StructType:
			if v.StructName == "" || v.Incomplete {
				return nil
			}
			return v
		default:
			return nil
		}
	}
	return nil
}

func dwarfRecordName(t dwarf.Type) string {
	if st, ok := t.(*dwarf.StructType); ok {
		return st.StructName
	}
	return ""
}

// scalarNames are the integer types --event-type accepts without any
// object declaring them, as the kernel's and libbpf's headers spell them.
var scalarNames = map[string]ebpfbtf.Type{}

func init() {
	for _, bits := range []uint32{8, 16, 32, 64} {
		for _, signed := range []bool{false, true} {
			enc, c := ebpfbtf.Unsigned, "u"
			if signed {
				enc, c = ebpfbtf.Signed, "s"
			}
			name := fmt.Sprintf("%s%d", c, bits)
			t := &ebpfbtf.Int{Name: "__" + name, Size: bits / 8, Encoding: enc}
			scalarNames[name], scalarNames["__"+name] = t, t
			if signed {
				scalarNames[fmt.Sprintf("int%d_t", bits)] = t
			} else {
				scalarNames[fmt.Sprintf("uint%d_t", bits)] = t
			}
		}
	}
}

// EventType finds the type --event-type names: a struct, union, typedef,
// enum or integer of the object's BTF, then of its DWARF, then one of the
// fixed-size integers (u32, __u64, s16, uint8_t, ...). "struct NAME" and
// "NAME" both work for structs.
func EventType(obj *Object, name string) (ebpfbtf.Type, error) {
	bare := strings.TrimPrefix(strings.TrimPrefix(name, "struct "), "union ")
	if obj.Spec.Types != nil {
		if ts, err := obj.Spec.Types.AnyTypesByName(bare); err == nil {
			for _, t := range ts {
				switch t.(type) {
				case *ebpfbtf.Struct, *ebpfbtf.Union, *ebpfbtf.Typedef, *ebpfbtf.Int, *ebpfbtf.Enum:
					if _, err := ebpfbtf.Sizeof(t); err == nil {
						return t, nil
					}
				}
			}
		}
	}
	dbg, dwarfErr := obj.debug()
	if dbg != nil {
		if dt, ok := dbg.Type(name); ok {
			if t, err := btf.FromDWARF(dt); err == nil {
				return t, nil
			}
		}
	}
	if t := scalarNames[name]; t != nil {
		return t, nil
	}
	var names []string
	if obj.Spec.Types != nil {
		for typ, err := range obj.Spec.Types.All() {
			if err != nil {
				break
			}
			if s, ok := typ.(*ebpfbtf.Struct); ok && s.Name != "" {
				names = append(names, s.Name)
			}
		}
	}
	if dbg != nil {
		for _, dt := range dbg.Records(-1) {
			names = append(names, dwarfRecordName(dt))
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	where := "the object's BTF or DWARF"
	if dwarfErr != nil {
		where = "the object's BTF (it has " + dwarfErr.Error() + ")"
	}
	return nil, fmt.Errorf("type %s: not in %s, and not a fixed-size integer such as u32 (structs: %s)", name, where, strings.Join(names, ", "))
}
