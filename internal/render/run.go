package render

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	ebpfbtf "github.com/cilium/ebpf/btf"

	bpfbtf "github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/bpfkit/bpfkit/objects/loader"
)

// A run prints through a buffer flushed whenever no more records are
// waiting, so a busy stream costs few writes and a quiet one shows every
// record at once. JSON is one object per line, also with -p.

func (p *textPrinter) Run() RunPrinter {
	return &textRun{w: p.w, bw: bufio.NewWriterSize(p.w, 64*1024)}
}

func (p *jsonPrinter) Run() RunPrinter {
	return &jsonRun{bw: bufio.NewWriterSize(p.w, 64*1024)}
}

type textRun struct {
	w  io.Writer // tables go straight out
	bw *bufio.Writer
}

type jsonRun struct{ bw *bufio.Writer }

func (r *textRun) Flush() error { return r.bw.Flush() }
func (r *jsonRun) Flush() error { return r.bw.Flush() }

func (r *jsonRun) line(v any) error { return writeJSON(r.bw, v, false) }

// The JSON lines of a run.
type attachedJSON struct {
	Program string `json:"program"`
	Section string `json:"section"`
	Hook    string `json:"hook"`
	LinkID  uint32 `json:"link_id"`
}

type skippedJSON struct {
	Program string `json:"program"`
	Section string `json:"section"`
	Reason  string `json:"reason"`
}

type sourceJSON struct {
	Map  string `json:"map"`
	Type string `json:"type"`
	ID   uint32 `json:"id"`
	// RecordType and From say how records are decoded; Hex why they
	// are not.
	RecordType string `json:"record_type,omitempty"`
	From       string `json:"from,omitempty"`
	Hex        string `json:"hex,omitempty"`
}

type startJSON struct {
	Attached []attachedJSON `json:"attached"`
	Skipped  []skippedJSON  `json:"skipped"`
	Sources  []sourceJSON   `json:"sources"`
	// SelfPID is the process whose records are left out (absent with
	// --self).
	SelfPID int `json:"self_pid,omitempty"`
}

type eventJSON struct {
	Map       string          `json:"map"`
	CPU       *int            `json:"cpu,omitempty"`
	Type      string          `json:"type,omitempty"`
	Size      int             `json:"size"`
	Data      []string        `json:"data"`
	Formatted json.RawMessage `json:"formatted,omitempty"`
}

type lostJSON struct {
	Map  string `json:"map"`
	CPU  int    `json:"cpu"`
	Lost uint64 `json:"lost"`
}

type traceLineJSON struct {
	Trace traceJSON `json:"trace"`
}

type progSummaryJSON struct {
	Name      string `json:"name"`
	ID        uint32 `json:"id"`
	Type      string `json:"type"`
	Hook      string `json:"hook,omitempty"`
	RunCnt    uint64 `json:"run_cnt"`
	RunTimeNs int64  `json:"run_time_ns"`
}

type sourceSummaryJSON struct {
	Map     string `json:"map"`
	Records uint64 `json:"records"`
	Lost    uint64 `json:"lost"`
	Own     uint64 `json:"own"`
}

type mapSummaryJSON struct {
	Map      string          `json:"map"`
	ID       uint32          `json:"id"`
	Type     string          `json:"type"`
	Elements json.RawMessage `json:"elements,omitempty"`
	More     int             `json:"more,omitempty"`
	Hist     []histJSON      `json:"hist,omitempty"`
	Error    string          `json:"error,omitempty"`
}

type summaryJSON struct {
	Summary struct {
		Programs  []progSummaryJSON   `json:"programs"`
		Sources   []sourceSummaryJSON `json:"sources"`
		OwnTraces uint64              `json:"own_trace_lines"`
		Maps      []mapSummaryJSON    `json:"maps"`
	} `json:"summary"`
}

// Start: what is attached, in a table, what was skipped and why, and what
// is read.
func (r *textRun) Start(s *loader.Session, trace bool) error {
	rows := make([][]string, 0, len(s.Attached))
	for _, a := range s.Attached {
		rows = append(rows, []string{a.Program, a.Hook, idOrDash(a.LinkID)})
	}
	if len(rows) > 0 {
		if err := table(r.w, []string{"PROGRAM", "ATTACHED TO", "LINK"}, rows); err != nil {
			return err
		}
	}
	for _, k := range s.Skipped {
		if _, err := fmt.Fprintf(r.w, "skipped %s (%s): %s\n", k.Program, k.Section, k.Reason); err != nil {
			return err
		}
	}
	var srcs []string
	for _, src := range s.Sources {
		srcs = append(srcs, fmt.Sprintf("%s %s (map id %d)", src.Type, src.Map, src.ID))
	}
	what := "no ring buffer or perf event array"
	if len(srcs) > 0 {
		what = strings.Join(srcs, ", ")
	}
	if trace {
		what += " and trace_pipe"
	}
	if len(s.Skipped) > 0 {
		if _, err := fmt.Fprintf(r.w, "attached %d of %d programs, skipped %d\n", len(s.Attached), len(s.Attached)+len(s.Skipped), len(s.Skipped)); err != nil {
			return err
		}
	}
	for _, src := range s.Sources {
		if why := s.Decoding.Hex[src.Map]; why != "" {
			if _, err := fmt.Fprintf(r.w, "%s records print in hex: %s\n", src.Map, why); err != nil {
				return err
			}
		}
	}
	if s.SelfPID != 0 {
		what += fmt.Sprintf(", leaving out bpfkit's own (pid %d; --self keeps them)", s.SelfPID)
	}
	_, err := fmt.Fprintf(r.w, "reading %s; Ctrl-C to stop\n", what)
	return err
}

func (r *jsonRun) Start(s *loader.Session, _ bool) error {
	st := startJSON{Attached: []attachedJSON{}, Skipped: []skippedJSON{}, Sources: []sourceJSON{}, SelfPID: s.SelfPID}
	for _, a := range s.Attached {
		st.Attached = append(st.Attached, attachedJSON{a.Program, a.Section, a.Hook, a.LinkID})
	}
	for _, k := range s.Skipped {
		st.Skipped = append(st.Skipped, skippedJSON{k.Program, k.Section, k.Reason})
	}
	for _, src := range s.Sources {
		sj := sourceJSON{Map: src.Map, Type: src.Type, ID: src.ID, From: s.Decoding.From[src.Map], Hex: s.Decoding.Hex[src.Map]}
		if t := s.Decoding.Types[src.Map]; t != nil {
			sj.RecordType = bpfbtf.TypeName(t)
		}
		st.Sources = append(st.Sources, sj)
	}
	return r.line(st)
}

// decode renders a record as its type, or returns "" when there is no
// type or the record is shorter than the type. Perf records may carry up
// to 7 bytes of padding after the struct.
func decode(typ ebpfbtf.Type, data []byte, mode bpfbtf.ValueMode) string {
	if typ == nil {
		return ""
	}
	size, err := ebpfbtf.Sizeof(typ)
	if err != nil || len(data) < size {
		return ""
	}
	s, err := bpfbtf.FormatValue(typ, data[:size], mode)
	if err != nil {
		return ""
	}
	return s
}

// Record: a decoded record on one line, or a header and a hex dump.
func (r *textRun) Record(rec loader.Record) error {
	typ := rec.Type
	if rec.Lost > 0 {
		_, err := fmt.Fprintf(r.bw, "%s: lost %d events on CPU %d\n", rec.Map, rec.Lost, rec.CPU)
		return err
	}
	where := ""
	if rec.CPU >= 0 {
		where = fmt.Sprintf(" CPU %d", rec.CPU)
	}
	at := time.Now().Format("15:04:05.000000")
	if f := decode(typ, rec.Data, bpfbtf.ValuePlain); f != "" {
		_, err := fmt.Fprintf(r.bw, "%s %s%s: %s\n", at, rec.Map, where, f)
		return err
	}
	what := ""
	if typ != nil {
		what = bpfbtf.TypeName(typ) + ", "
	}
	if _, err := fmt.Fprintf(r.bw, "== %s%s: %s%d bytes at %s\n", rec.Map, where, what, len(rec.Data), at); err != nil {
		return err
	}
	_, err := fmt.Fprint(r.bw, hex.Dump(rec.Data))
	return err
}

func (r *jsonRun) Record(rec loader.Record) error {
	typ := rec.Type
	if rec.Lost > 0 {
		return r.line(lostJSON{Map: rec.Map, CPU: rec.CPU, Lost: rec.Lost})
	}
	ev := eventJSON{Map: rec.Map, Size: len(rec.Data), Data: hexStrings(rec.Data)}
	if rec.CPU >= 0 {
		cpu := rec.CPU
		ev.CPU = &cpu
	}
	if typ != nil {
		ev.Type = bpfbtf.TypeName(typ)
		if f := decode(typ, rec.Data, bpfbtf.ValueJSON); f != "" {
			ev.Formatted = json.RawMessage(f)
		}
	}
	return r.line(ev)
}

func (r *textRun) Trace(l events.TraceLine) error {
	_, err := fmt.Fprintf(r.bw, "trace_pipe: %s\n", strings.TrimSpace(l.Raw))
	return err
}

func (r *jsonRun) Trace(l events.TraceLine) error {
	return r.line(traceLineJSON{Trace: traceOf(l)})
}

// Summary: each program's run count and time, each source's count, what
// was left out as bpfkit's own, and the final contents of the other maps.
func (r *textRun) Summary(sum loader.RunSummary) error {
	if err := r.bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(r.w)
	rows := make([][]string, 0, len(sum.Programs))
	for _, p := range sum.Programs {
		runs, rt, avg := "-", "-", "-"
		if p.Stats {
			runs = strconv.FormatUint(p.RunCount, 10)
			rt = fmt.Sprintf("%dns", p.RunTime.Nanoseconds())
			if p.RunCount > 0 {
				avg = fmt.Sprintf("%dns", p.RunTime.Nanoseconds()/int64(p.RunCount))
			}
		}
		hook := p.Hook
		if hook == "" {
			hook = "(not attached)"
		}
		rows = append(rows, []string{p.Name, idOrDash(p.ID), p.Type, hook, runs, rt, avg})
	}
	table(r.w, []string{"PROGRAM", "ID", "TYPE", "ATTACHED TO", "RUNS", "RUN TIME", "AVG"}, rows)
	for _, s := range sum.Sources {
		own := ""
		if s.Own > 0 {
			own = fmt.Sprintf(", %d of bpfkit's own left out", s.Own)
		}
		fmt.Fprintf(r.w, "%s: %d records, %d lost%s\n", s.Map, s.Records, s.Lost, own)
	}
	if sum.OwnTraces > 0 {
		fmt.Fprintf(r.w, "trace_pipe: %d of bpfkit's own lines left out\n", sum.OwnTraces)
	}
	for _, mc := range sum.Maps {
		if err := r.mapContents(mc); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(r.w, "detached and unloaded everything")
	return err
}

// mapContents prints one map's final contents: histogram bars, or its
// elements as map dump prints them.
func (r *textRun) mapContents(mc loader.MapContents) error {
	l := mc.Layout
	fmt.Fprintf(r.w, "\nmap %s (%s, id %d):\n", l.Name, objects.MapTypeName(l.Type), l.ID)
	if mc.Err != nil {
		_, err := fmt.Fprintf(r.w, "  cannot read it: %v\n", mc.Err)
		return err
	}
	if mc.Hist != nil {
		return writeHists(r.w, l, mc.Hist)
	}
	p := NewDumpPrinter(r.w, DumpFormat{})
	p.BeginMap(l)
	for _, e := range mc.Entries {
		p.Entry(e)
	}
	p.EndMap()
	if err := p.Close(); err != nil {
		return err
	}
	if mc.More > 0 {
		_, err := fmt.Fprintf(r.w, "(and %d more elements: bpfkit map dump shows them while a map lives)\n", mc.More)
		return err
	}
	return nil
}

func (r *jsonRun) Summary(sum loader.RunSummary) error {
	var sj summaryJSON
	sj.Summary.Programs, sj.Summary.Sources, sj.Summary.Maps = []progSummaryJSON{}, []sourceSummaryJSON{}, []mapSummaryJSON{}
	for _, p := range sum.Programs {
		sj.Summary.Programs = append(sj.Summary.Programs, progSummaryJSON{p.Name, p.ID, p.Type, p.Hook, p.RunCount, p.RunTime.Nanoseconds()})
	}
	for _, s := range sum.Sources {
		sj.Summary.Sources = append(sj.Summary.Sources, sourceSummaryJSON(s))
	}
	sj.Summary.OwnTraces = sum.OwnTraces
	for _, mc := range sum.Maps {
		l := mc.Layout
		ms := mapSummaryJSON{Map: l.Name, ID: l.ID, Type: objects.MapTypeName(l.Type).String(), More: mc.More}
		switch {
		case mc.Err != nil:
			ms.Error = mc.Err.Error()
		case mc.Hist != nil:
			ms.Hist = histsJSON(l, mc.Hist)
		default:
			var b bytes.Buffer
			p := NewDumpPrinter(&b, DumpFormat{JSON: true})
			p.BeginMap(l)
			for _, e := range mc.Entries {
				p.Entry(e)
			}
			p.EndMap()
			if err := p.Close(); err == nil {
				ms.Elements = json.RawMessage(bytes.TrimSpace(b.Bytes()))
			}
		}
		sj.Summary.Maps = append(sj.Summary.Maps, ms)
	}
	if err := r.line(sj); err != nil {
		return err
	}
	return r.bw.Flush()
}

// hexStrings is bytes as bpftool's JSON "0x.." strings.
func hexStrings(data []byte) []string {
	out := make([]string, len(data))
	for i, b := range data {
		out[i] = "0x" + strconv.FormatUint(uint64(b)|0x100, 16)[1:]
	}
	return out
}
