package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	ebpfbtf "github.com/cilium/ebpf/btf"
	dto "github.com/prometheus/client_model/go"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/internal/render/top"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/attachments"
	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/bpfkit/bpfkit/objects/features"
	"github.com/bpfkit/bpfkit/objects/loader"
	"github.com/bpfkit/bpfkit/objects/mapdata"
	"github.com/bpfkit/bpfkit/objects/profile"
	"github.com/bpfkit/bpfkit/objects/structops"
)

// Format is how a command prints: bpftool's plain text and tables, or
// bpftool's JSON, compact or pretty.
type Format struct {
	JSON   bool // -j
	Pretty bool // -p (implies JSON)
}

// Printer prints the result of each kind of command, in the one format
// chosen when the printer was made. A command asks its library for data and
// hands it to the method for its kind of result; it never asks which
// format is in use.
type Printer interface {
	// Null ends an action verb that has nothing to say: nothing in text,
	// bpftool's null in JSON.
	Null() error
	// Error reports a failed command: "Error: ..." on stderr, or
	// bpftool's {"error": "..."} on stdout.
	Error(err error)
	// Info is a remark for a person (bpftool's p_info): stderr in text,
	// nothing in JSON.
	Info(format string, args ...any)
	// Warn is a remark printed to stderr in every format.
	Warn(format string, args ...any)
	// TextOnly returns err when the format is JSON: for outputs that only
	// exist as text (DOT graphs, C headers, the demo).
	TextOnly(err error) error
	Version(v string) error

	// Lists of kernel objects. one says that a selector picked them: in
	// JSON, one of them prints as a single object instead of an array, as
	// bpftool does when one object matched (nb_fds == 1) whatever the
	// selector; pins adds the pinned paths (-f).
	Programs(progs []*objects.ProgramInfo, one, pins bool) error
	Maps(maps []*objects.MapInfo, one, pins bool) error
	Links(links []*objects.LinkInfo, one, pins bool) error
	BTFObjects(objs []*objects.BTFInfo, one bool) error

	// Where programs are attached: `net show`.
	Net(n *attachments.NetAttachments) error
	// `cgroup show` and `cgroup tree`; effective leaves out the flags.
	Cgroup(progs []attachments.CgroupProgram, effective bool) error
	CgroupTree(cgroups []attachments.CgroupPrograms, effective bool) error
	// `perf show`.
	Perf(ps []attachments.PerfAttachment) error
	// `struct_ops show` and `struct_ops dump`.
	StructOps(maps []structops.Map) error
	StructOpsDump(dumps []structops.Dump) error

	// ProgDump prints `prog dump xlated|jited`: one dump, or several
	// with a header each.
	ProgDump(dumps []ProgDump) error
	// TraceLog returns the printer of `prog tracelog`; fields asks for
	// bpfkit's JSON form (an object per line) instead of bpftool's.
	TraceLog(fields bool) TracePrinter
	// VerifierLog prints a program's verifier log on stderr (not in
	// JSON); head introduces it.
	VerifierLog(head string, lines []string)

	// Map contents.
	MapDump(multi, hex bool) *DumpPrinter
	MapEntry(l mapdata.Layout, e *mapdata.Entry) error
	MapEntryMissing(key []byte) error
	NextKey(key []byte, hasKey bool, next []byte) error
	// MapHist prints a map's log2 histograms as bars (map dump ... hist).
	MapHist(l mapdata.Layout, hists []mapdata.Histogram) error
	Events(typ ebpfbtf.Type) *EventPrinter

	// Object files.
	ELFSections(f *elfobj.File) error
	ELFSymbols(f *elfobj.File) error
	ELFPrograms(f *elfobj.File) error
	ELFMaps(f *elfobj.File) error
	ELFRelocations(rels []elfobj.RelocSection) error
	ELFGlobals(f *elfobj.File) error
	ELFDump(progs []ELFProgram) error

	// BTF.
	BTFRaw(spec *btf.Spec, roots []btf.TypeID) error
	BTFC(spec *btf.Spec, opts btf.COptions) error

	// FeatureProbe prints what `feature probe` found; FeatureMacros the
	// same as C #defines, each name after prefix (JSON with -j, as
	// bpftool does).
	FeatureProbe(r *features.Report) error
	FeatureMacros(r *features.Report, prefix string) error
	// Names prints a list of names (`feature list_builtins`).
	Names(names []string) error

	// Profile prints what `prog profile` counted.
	Profile(r *profile.Result) error

	// Source prints generated source code (`gen go`): text only.
	Source(src []byte) error

	// ProgRun prints `prog run` results: one, or one per packet of a
	// pcap file.
	ProgRun(runs []ProgRun) error

	// Top shows `prog top`: each interval next returns, until it returns
	// io.EOF or ctx ends. Text on a terminal is a live full-screen view
	// that sorts on keys and quits on q or Ctrl-C; otherwise each
	// interval prints as one document: a table, or one JSON object.
	Top(ctx context.Context, next top.Source, opts top.Options) error
	// Metrics prints metric families in Prometheus's text exposition
	// format (text only).
	Metrics(families []*dto.MetricFamily) error

	// Run returns the printer of a `bpfkit run` session.
	Run() RunPrinter
	// Demo returns the printer of the teaching demo.
	Demo() DemoPrinter
}

// ProgDump is one program's instructions for `prog dump`.
type ProgDump struct {
	// Header describes the program when several are dumped.
	Header *objects.ProgramInfo
	// Xlated holds translated instructions, Jited a JIT image.
	Xlated []bpfasm.Line
	Jited  []bpfasm.JitedFunc
	// Visual prints Xlated as a DOT control-flow graph.
	Visual bool
	Opts   bpfasm.PrintOptions
}

// TracePrinter prints trace_pipe lines as they come, and what ends the
// output when the stream stops.
type TracePrinter interface {
	Line(l events.TraceLine) error
	End() error
}

// ELFProgram is one program of `elf dump`.
type ELFProgram struct {
	Name, Section string
	Type          objects.TypeName
	Lines         []bpfasm.Line
	Opts          bpfasm.PrintOptions
}

// RunPrinter prints a `bpfkit run` session: the attachments, then records
// and trace lines as they come, then a summary. Output is buffered: Flush
// writes it out (when no record is waiting).
type RunPrinter interface {
	Start(s *loader.Session, trace bool) error
	// Record prints one record, decoded with r.Type when it has one.
	Record(r loader.Record) error
	Trace(l events.TraceLine) error
	// Summary prints what the session reports when it ends.
	Summary(sum loader.RunSummary) error
	Flush() error
}

// DemoPrinter tells a person what the demo does.
type DemoPrinter interface {
	Intro(listing []bpfasm.Line) error
	Loaded(d *loader.Demo, xlated []bpfasm.Line) error
	Waiting(count int) error
	// Quiet says that no record came for d and that the demo opens
	// file itself to make one.
	Quiet(d time.Duration, file string) error
	Record(rec loader.DemoRecord) error
	End(records int, lost uint64) error
}

// New returns the printer for f, writing results to stdout and remarks
// and plain-text errors to stderr.
func New(stdout, stderr io.Writer, f Format) Printer {
	base := base{w: stdout, errw: stderr}
	if f.JSON || f.Pretty {
		return &jsonPrinter{base: base, pretty: f.Pretty}
	}
	return &textPrinter{base: base}
}

// base is what both printers share: where they write.
type base struct {
	w, errw io.Writer
}

func (b *base) Warn(format string, args ...any) {
	fmt.Fprintf(b.errw, format+"\n", args...)
}

// OneLine joins the lines of an error message, as every error prints on
// one line.
func OneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}

// errNoJSON is what the JSON printer answers for text-only results that a
// command did not refuse first with TextOnly.
var errNoJSON = errors.New("this output has no JSON form")
