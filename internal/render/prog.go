package render

import (
	"bufio"
	"fmt"
	"io"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/events"
)

// ProgDump: the listing (or DOT graph, or JIT disassembly) of each
// program; with several programs, bpftool's `prog show` line before each,
// a blank line between them.
func (p *textPrinter) ProgDump(dumps []ProgDump) error {
	for i, d := range dumps {
		if d.Header != nil {
			fmt.Fprintln(p.w, progHeaderPlain(d.Header))
		}
		var err error
		switch {
		case d.Jited != nil:
			err = bpfasm.FprintJited(p.w, d.Jited, d.Opts)
		case d.Visual:
			err = bpfasm.FprintDOT(p.w, d.Xlated, d.Opts)
		default:
			err = bpfasm.Fprint(p.w, d.Xlated, d.Opts)
		}
		if err != nil {
			return err
		}
		if d.Header != nil && i != len(dumps)-1 {
			fmt.Fprintln(p.w)
		}
	}
	return nil
}

// ProgDump: the instructions of one program, or an array of programs
// with their `prog show` fields and an "insns" member.
func (p *jsonPrinter) ProgDump(dumps []ProgDump) error {
	bodies := make([]any, len(dumps))
	for i, d := range dumps {
		if d.Visual {
			return errNoJSON
		}
		if d.Jited != nil {
			bodies[i] = bpfasm.JitedJSON(d.Jited, d.Opts)
		} else {
			bodies[i] = bpfasm.JSON(d.Xlated, d.Opts)
		}
	}
	if len(dumps) == 1 && dumps[0].Header == nil {
		return p.print(bodies[0])
	}
	progs := make([]progWithInsns, len(dumps))
	for i, d := range dumps {
		progs[i] = progWithInsns{ProgramHeader: d.Header.ProgramHeader, Insns: bodies[i]}
	}
	return p.print(progs)
}

type progWithInsns struct {
	objects.ProgramHeader
	Insns any `json:"insns"`
}

// progHeaderPlain is the first line of bpftool's plain `prog show`.
func progHeaderPlain(p *objects.ProgramInfo) string {
	s := fmt.Sprintf("%d: %s  ", p.ID, p.Type)
	if p.Name != "" {
		s += fmt.Sprintf("name %s  ", p.Name)
	}
	s += "tag " + p.Tag
	if p.GPLCompatible {
		s += "  gpl"
	}
	if p.RunTimeNs != nil && *p.RunTimeNs != 0 {
		var runs uint64
		if p.RunCnt != nil {
			runs = *p.RunCnt
		}
		s += fmt.Sprintf(" run_time_ns %d run_cnt %d", *p.RunTimeNs, runs)
	}
	if p.RecursionMisses != 0 {
		s += fmt.Sprintf(" recursion_misses %d", p.RecursionMisses)
	}
	return s
}

// TraceLog: the lines as trace_pipe has them.
func (p *textPrinter) TraceLog(bool) TracePrinter { return &textTrace{w: p.w} }

type textTrace struct{ w io.Writer }

func (t *textTrace) Line(l events.TraceLine) error {
	_, err := io.WriteString(t.w, l.Raw+"\n")
	return err
}

func (t *textTrace) End() error { return nil }

// TraceLog: bpftool's JSON, an array of the lines as strings (with their
// newlines) that ends when the stream does; each line is written out as
// it comes. With fields, bpfkit's own form instead: one object per line
// with the task, pid, cpu, timestamp and message, compact even with -p.
func (p *jsonPrinter) TraceLog(fields bool) TracePrinter {
	bw := bufio.NewWriter(p.w)
	if fields {
		return &fieldsTrace{bw: bw}
	}
	j := jsonw.New(bw, p.pretty)
	j.StartArray()
	return &jsonTrace{bw: bw, j: j}
}

type jsonTrace struct {
	bw *bufio.Writer
	j  *jsonw.Writer
}

func (t *jsonTrace) Line(l events.TraceLine) error {
	t.j.String(l.Raw + "\n")
	return t.bw.Flush()
}

func (t *jsonTrace) End() error {
	t.j.EndArray()
	t.bw.WriteByte('\n')
	return t.bw.Flush()
}

type fieldsTrace struct{ bw *bufio.Writer }

// traceFields is one trace_pipe line in bpfkit's JSON form.
type traceFields struct {
	Task      string `json:"task,omitempty"`
	PID       int    `json:"pid"`
	CPU       int    `json:"cpu"`
	Timestamp string `json:"timestamp,omitempty"`
	Message   string `json:"message"`
}

func traceFieldsOf(l events.TraceLine) traceFields {
	return traceFields{Task: l.Task, PID: l.PID, CPU: l.CPU, Timestamp: l.Timestamp, Message: l.Message}
}

func (t *fieldsTrace) Line(l events.TraceLine) error {
	if err := writeJSON(t.bw, traceFieldsOf(l), false); err != nil {
		return err
	}
	return t.bw.Flush()
}

func (t *fieldsTrace) End() error { return nil }

func (p *textPrinter) VerifierLog(head string, lines []string) {
	fmt.Fprintln(p.errw, head)
	for _, l := range lines {
		fmt.Fprintln(p.errw, l)
	}
}

func (p *jsonPrinter) VerifierLog(string, []string) {}
