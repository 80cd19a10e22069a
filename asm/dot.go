package asm

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// FprintDOT writes a listing of translated code as a DOT control-flow
// graph, in the layout of bpftool's "prog dump xlated visual": one dashed
// cluster per function (functions found through bpf-to-bpf calls), one
// record node per basic block, ENTRY and EXIT nodes, and edges for
// fall-through and jumps. Instruction indices restart at 0 in each function.
// Opcodes and source lines are added inside the blocks when asked for.
func FprintDOT(w io.Writer, lines []Line, opts PrintOptions) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("digraph \"DOT graph for eBPF program\" {\n")
	for _, fn := range cfgFuncs(lines) {
		writeCluster(bw, lines, fn, opts)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

type cfgFunc struct {
	idx        int // discovery order, as bpftool numbers clusters
	start, end int // indices into lines
}

// cfgFuncs splits a listing into functions at the targets of bpf-to-bpf
// calls, sorted by address and numbered in order of discovery.
func cfgFuncs(lines []Line) []cfgFunc {
	byOff := make(map[int]int, len(lines))
	for i, l := range lines {
		byOff[l.Offset] = i
	}
	starts := map[int]int{0: 0} // line index -> discovery index
	for _, l := range lines {
		r := l.Raw
		if r.Class() == classJMP && r.Code&0xf0 == opCALL && r.Src == pseudoCall {
			tgt, ok := byOff[l.Offset+int(r.Off)+1]
			if _, seen := starts[tgt]; ok && !seen {
				starts[tgt] = len(starts)
			}
		}
	}
	var funcs []cfgFunc
	for s, idx := range starts {
		funcs = append(funcs, cfgFunc{idx: idx, start: s})
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].start < funcs[j].start })
	for i := range funcs {
		funcs[i].end = len(lines)
		if i+1 < len(funcs) {
			funcs[i].end = funcs[i+1].start
		}
	}
	return funcs
}

// jumpKind classifies the control flow of an instruction the way bpftool's
// CFG builder does.
type jumpKind int

const (
	flowNone jumpKind = iota // not in a jump class
	flowExit                 // exit: ends no block, falls through
	flowCall                 // call: ends no block; at a block's end it
	// gets a fall-through and a "jump" edge to the next instruction
	flowGoto // unconditional
	flowCond
)

func flowOf(r Raw) (jumpKind, int) {
	cls := r.Class()
	if cls != classJMP && cls != classJMP32 {
		return flowNone, 0
	}
	switch op := r.Code & 0xf0; {
	case op == opCALL:
		return flowCall, int(r.Off)
	case op == opEXIT:
		return flowExit, 0
	case r.Code == classJMP32|opJA:
		return flowGoto, int(r.Imm)
	case op == opJA:
		return flowGoto, int(r.Off)
	default:
		return flowCond, int(r.Off)
	}
}

func writeCluster(bw *bufio.Writer, lines []Line, fn cfgFunc, opts PrintOptions) {
	body := lines[fn.start:fn.end]
	base := 0
	if len(body) > 0 {
		base = body[0].Offset
	}
	byOff := make(map[int]int, len(body))
	for i, l := range body {
		byOff[l.Offset] = i
	}
	// Leaders: the first instruction, jump targets, and what follows a jump.
	leader := make([]bool, len(body)+1)
	leader[0] = true
	for i, l := range body {
		kind, off := flowOf(l.Raw)
		if kind == flowNone || kind == flowExit || kind == flowCall {
			continue
		}
		leader[i+1] = true
		if t, ok := byOff[l.Offset+off+1]; ok {
			leader[t] = true
		}
	}
	var blocks [][2]int // [first, last+1) line indices
	for i := 0; i < len(body); i++ {
		if leader[i] || len(blocks) == 0 {
			blocks = append(blocks, [2]int{i, i + 1})
		} else {
			blocks[len(blocks)-1][1] = i + 1
		}
	}
	blockOf := func(line int) int {
		for b, bl := range blocks {
			if line >= bl[0] && line < bl[1] {
				return b + 2
			}
		}
		return 1
	}

	f := fn.idx
	fmt.Fprintf(bw, "subgraph \"cluster_%d\" {\n\tstyle=\"dashed\";\n\tcolor=\"black\";\n\tlabel=\"func_%d ()\";\n", f, f)
	fmt.Fprintf(bw, "\tfn_%d_bb_0 [shape=Mdiamond,style=filled,label=\"ENTRY\"];\n\n", f)
	for b, bl := range blocks {
		fmt.Fprintf(bw, "\tfn_%d_bb_%d [shape=record,style=filled,label=\"{", f, b+2)
		for i := bl[0]; i < bl[1]; i++ {
			l := &body[i]
			sep := " | "
			if i == bl[0] {
				sep = ""
			}
			if l.Source != nil {
				fmt.Fprintf(bw, "%s%s\\l\\\n", sep, dotEscape(SourceComment(l.Source, opts.Linum)))
				sep = " | "
			}
			fmt.Fprintf(bw, "%s%4d: %s\\l\\\n", sep, l.Offset-base, dotEscape(l.Text))
			if opts.Opcodes {
				fmt.Fprintf(bw, " |        %s\\l\\\n", HexBytes(l.Raw.Bytes()))
			}
		}
		bw.WriteString("}\"];\n\n")
	}
	fmt.Fprintf(bw, "\tfn_%d_bb_1 [shape=Mdiamond,style=filled,label=\"EXIT\"];\n\n", f)

	edge := func(from, to int) {
		fmt.Fprintf(bw, "\tfn_%d_bb_%d:s -> fn_%d_bb_%d:n [style=\"solid,bold\", color=black, weight=10, constraint=true];\n", f, from, f, to)
	}
	if len(blocks) > 0 {
		edge(0, 2)
	} else {
		edge(0, 1)
	}
	for b, bl := range blocks {
		last := &body[bl[1]-1]
		next := b + 3
		if b+1 == len(blocks) {
			next = 1
		}
		kind, off := flowOf(last.Raw)
		target, inFunc := 1, false
		if t, ok := byOff[last.Offset+off+1]; ok {
			target, inFunc = blockOf(t), true
		}
		// Like bpftool, an exit falls through to the next block, and a
		// call at the end of a block gets a second edge to its "target".
		switch kind {
		case flowGoto:
			edge(b+2, target)
		case flowCond, flowCall:
			edge(b+2, next)
			if inFunc {
				edge(b+2, target)
			}
		default:
			edge(b+2, next)
		}
	}
	fmt.Fprintf(bw, "\tfn_%d_bb_0:s -> fn_%d_bb_1:n [style=\"invis\", constraint=true];\n}\n", f, f)
}

var dotEscaper = strings.NewReplacer("&", "\\&", "<", "\\<", ">", "\\>", "|", "\\|", "{", "\\{", "}", "\\}", "\"", "\\\"")

func dotEscape(s string) string { return dotEscaper.Replace(s) }
