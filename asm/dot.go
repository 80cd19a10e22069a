package asm

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
)

// FprintDOT writes a listing of translated code as the DOT control-flow
// graph of bpftool v7.8's "prog dump xlated visual", byte for byte: one
// dashed cluster per function (functions start at the targets of
// bpf-to-bpf calls), ENTRY and EXIT nodes, one record node per basic
// block, and the edges bpftool draws. Its quirks are kept, since tools
// parse its output:
//
//   - instructions are numbered from 0 in each function, and the function
//     signature and source lines are looked up with those numbers, so a
//     subprogram shows the first function's signature;
//   - an exit falls through to the next block, a call ends no block, and
//     a jump that crosses functions has no edge;
//   - each instruction's text is cut at 63 bytes (bpftool formats it into
//     a 64-byte buffer), and only < > | & are escaped in it, while source
//     lines and file names escape \ " { } < > | and spaces.
//
// Opcodes and source file names are added inside the blocks when asked
// for.
func FprintDOT(w io.Writer, lines []Line, opts PrintOptions) error {
	bw := bufio.NewWriter(w)
	g := newGraph(lines)
	bw.WriteString("digraph \"DOT graph for eBPF program\" {\n")
	for _, fn := range g.funcs {
		g.writeFunc(bw, fn, opts)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// graph is a listing by instruction slot, with the records bpftool's CFG
// reads: function signatures and line-info records by the slot they
// start at.
type graph struct {
	lines  []Line
	slot   []int // line index of each slot; -1 for the second half of an ldimm64
	funcs  []cfgFunc
	finfo  []slotText // function signatures
	linfos []slotLine // line-info records
}

type slotText struct {
	slot int
	text string
}

type slotLine struct {
	slot int
	src  *Source
}

// cfgFunc is one function: its slots, its number (in the order bpftool
// finds functions) and its basic blocks' first slots, in order.
type cfgFunc struct {
	idx        int
	start, end int // first and last slot
	heads      []int
}

func newGraph(lines []Line) *graph {
	g := &graph{lines: lines}
	for i, l := range lines {
		for len(g.slot) < l.Offset {
			g.slot = append(g.slot, -1)
		}
		g.slot = append(g.slot, i)
		if l.Raw.Wide {
			g.slot = append(g.slot, -1)
		}
		if l.Proto != "" {
			g.finfo = append(g.finfo, slotText{l.Offset, l.Proto})
		}
		if l.Source != nil {
			g.linfos = append(g.linfos, slotLine{l.Offset, l.Source})
		}
	}
	g.partition()
	return g
}

// raw returns the instruction at slot; the second half of an ldimm64
// reads as opcode 0, as it is in memory.
func (g *graph) raw(slot int) (Raw, bool) {
	if slot < 0 || slot >= len(g.slot) || g.slot[slot] < 0 {
		return Raw{}, false
	}
	return g.lines[g.slot[slot]].Raw, true
}

func isJump(r Raw) bool { return r.Class() == classJMP || r.Class() == classJMP32 }

// partition splits the program into functions and basic blocks the way
// bpftool's cfg.c does.
func (g *graph) partition() {
	n := len(g.slot)
	if n == 0 {
		return
	}
	// Functions: slot 0 and the target of every pseudo call, numbered in
	// the order they are found, kept in slot order.
	g.funcs = []cfgFunc{{idx: 0, start: 0}}
	for s := 0; s < n; s++ {
		r, ok := g.raw(s)
		if !ok || r.Code != classJMP|opCALL || r.Src != pseudoCall {
			continue
		}
		tgt := s + int(r.Off) + 1
		i := sort.Search(len(g.funcs), func(i int) bool { return g.funcs[i].start >= tgt })
		if i < len(g.funcs) && g.funcs[i].start == tgt {
			continue
		}
		g.funcs = append(g.funcs, cfgFunc{})
		copy(g.funcs[i+1:], g.funcs[i:])
		g.funcs[i] = cfgFunc{idx: len(g.funcs) - 1, start: tgt}
	}
	for i := range g.funcs {
		fn := &g.funcs[i]
		fn.end = n - 1
		if i+1 < len(g.funcs) {
			fn.end = g.funcs[i+1].start - 1
		}
		// Blocks start at the function, at jump targets and after
		// conditional jumps; calls and exits end no block.
		heads := map[int]bool{fn.start: true}
		for s := fn.start; s <= fn.end; s++ {
			r, ok := g.raw(s)
			if !ok || !isJump(r) {
				continue
			}
			op := r.Code & 0xf0
			if op == opEXIT || op == opCALL {
				continue
			}
			heads[s+int(r.Off)+1] = true
			if op != opJA {
				heads[s+1] = true
			}
		}
		for h := range heads {
			fn.heads = append(fn.heads, h)
		}
		sort.Ints(fn.heads)
	}
}

// Block numbers: ENTRY and EXIT, then the blocks in slot order.
const (
	entryBlock = 0
	exitBlock  = 1
)

func (g *graph) writeFunc(bw *bufio.Writer, fn cfgFunc, opts PrintOptions) {
	f := strconv.Itoa(fn.idx)
	bw.WriteString("subgraph \"cluster_" + f + "\" {\n\tstyle=\"dashed\";\n\tcolor=\"black\";\n\tlabel=\"func_" + f + " ()\";\n")
	node := func(b int, shape, label string) {
		bw.WriteString("\tfn_" + f + "_bb_" + strconv.Itoa(b) + " [shape=" + shape + ",style=filled,label=\"" + label)
		bw.WriteString("\"];\n\n")
	}
	tail := func(i int) int {
		if i+1 < len(fn.heads) {
			return fn.heads[i+1] - 1
		}
		return fn.end
	}
	node(entryBlock, "Mdiamond", "ENTRY")
	for i, head := range fn.heads {
		var sb strings.Builder
		sb.WriteString("{\\\n")
		g.writeBlock(&sb, fn, head, tail(i), opts)
		sb.WriteString("}")
		node(i+2, "record", sb.String())
	}
	node(exitBlock, "Mdiamond", "EXIT")

	edge := func(from, to int) {
		bw.WriteString("\tfn_" + f + "_bb_" + strconv.Itoa(from) + ":s -> fn_" + f + "_bb_" + strconv.Itoa(to) +
			":n [style=\"solid,bold\", color=black, weight=10, constraint=true];\n")
	}
	blockAt := func(slot int) (int, bool) {
		i := sort.SearchInts(fn.heads, slot)
		return i + 2, i < len(fn.heads) && fn.heads[i] == slot
	}
	edge(entryBlock, 2)
	for i := range fn.heads {
		next := i + 3
		if i+1 == len(fn.heads) {
			next = exitBlock
		}
		t := tail(i)
		r, ok := g.raw(t)
		op := r.Code & 0xf0
		if !ok || !isJump(r) || op == opCALL || op == opEXIT {
			edge(i+2, next)
			continue
		}
		target, found := blockAt(t + int(r.Off) + 1)
		if op == opJA {
			if found {
				edge(i+2, target)
			}
			continue
		}
		edge(i+2, next)
		if found {
			edge(i+2, target)
		}
	}
	bw.WriteString("\tfn_" + f + "_bb_0:s -> fn_" + f + "_bb_1:n [style=\"invis\", constraint=true];\n}\n")
}

// writeBlock writes the label of the block from slot head to slot tail:
// each instruction numbered from the function's start, with the signature
// and source line bpftool finds for that number, "| " between them.
func (g *graph) writeBlock(sb *strings.Builder, fn cfgFunc, head, tail int, opts PrintOptions) {
	record := 0        // the next function signature to look for
	var last *slotLine // the line-info record printed last
	wide := false
	for s := head; s <= tail; s++ {
		if wide {
			wide = false
			continue
		}
		r, ok := g.raw(s)
		wide = ok && r.Wide
		rel := s - fn.start
		if record < len(g.finfo) && g.finfo[record].slot == rel {
			sb.WriteString("; " + g.finfo[record].text + ":\\l\\\n")
			record++
		}
		if li := g.lineInfo(rel); li != nil && li != last {
			writeDotSource(sb, li.src, opts.Linum)
			last = li
		}
		sb.WriteString(strconv.Itoa(rel) + ": ")
		text := "\n"
		if ok {
			text = g.lines[g.slot[s]].Text + "\n"
		}
		sb.WriteString(dotInsn(text))
		if opts.Opcodes {
			b := r.Bytes()
			sb.WriteString("\\ \\ \\ \\ ")
			sb.WriteString(HexBytes(b[:8]))
			if wide && s <= tail-1 {
				sb.WriteString(" " + HexBytes(b[8:]))
			}
			sb.WriteString("\\l\\\n")
		}
		if s != tail {
			sb.WriteString("| ")
		}
	}
}

// lineInfo is the last line-info record at or before slot, as libbpf's
// bpf_prog_linfo__lfind finds it.
func (g *graph) lineInfo(slot int) *slotLine {
	i := sort.Search(len(g.linfos), func(i int) bool { return g.linfos[i].slot > slot })
	if i == 0 {
		return nil
	}
	return &g.linfos[i-1]
}

// dotInsn is an instruction's text as bpftool's print_insn_for_graph
// writes it: cut to the 63 bytes of its buffer, newlines ending the
// label's line (\l), < > | & escaped.
func dotInsn(text string) string {
	if len(text) > 63 {
		text = text[:63]
	}
	var sb strings.Builder
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\n':
			sb.WriteString("\\l\\\n")
		case '<', '>', '|', '&':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// writeDotSource writes a line-info record as bpftool's
// btf_dump_linfo_dotlabel does: nothing for an empty line, else with
// linum "; [file line:N col:C]" (the file cut to its last 32 bytes or so
// behind "..."), then "; line".
func writeDotSource(sb *strings.Builder, src *Source, linum bool) {
	if src.Text == "" {
		return
	}
	if linum {
		file := shortenPath(src.File)
		sb.WriteString("; [")
		if len(file) < len(src.File) {
			sb.WriteString("...")
		}
		sb.WriteString(dotLabel(file))
		sb.WriteString(" line:" + strconv.FormatUint(uint64(src.Line), 10) + " col:" + strconv.FormatUint(uint64(src.Col), 10) + "]\\l\\\n")
	}
	sb.WriteString("; " + dotLabel(src.Text) + "\\l\\\n")
}

// dotLabel escapes what a DOT record label gives meaning to.
func dotLabel(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"', '{', '}', '<', '>', '|', ' ':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// shortenPath is bpftool's shorten_path: a path longer than 32 bytes
// keeps what follows the first '/' of its last 32 bytes, unless that
// leaves out less than "..." would take; a last component longer than 32
// bytes keeps its '/'.
func shortenPath(path string) string {
	const maxLen = 32
	if len(path) <= maxLen {
		return path
	}
	if i := strings.IndexByte(path[len(path)-maxLen:], '/'); i >= 0 {
		i += len(path) - maxLen
		if i < len("...") {
			return path
		}
		return path[i:]
	}
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i:]
	}
	return path
}
