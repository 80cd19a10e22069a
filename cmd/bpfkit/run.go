package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	ebpfbtf "github.com/cilium/ebpf/btf"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	bpfbtf "github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/bpfkit/bpfkit/objects/loader"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "load an object, attach every program by its section and print its events until Ctrl-C",
		ArgsUsage: `OBJ

Every program is attached by its section name (tracepoint/, raw_tp/, tp_btf/,
kprobe/, uprobe/BINARY:SYMBOL, fentry/, lsm/, iter/, xdp and tc with --iface,
cgroup programs with --cgroup; socket filters are skipped). Records from every
ring buffer and perf event array print as they come, decoded with the struct
the programs pass to the output helper (or --event-type), in hex when it is
unknown. Ctrl-C, SIGTERM, SIGHUP, --duration or a closed stdout end the run:
everything is then detached and unloaded and a per-program summary is printed.`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "set", Usage: "set global variable `NAME=VALUE` before load (typed by BTF; repeatable)"},
			&cli.StringFlag{Name: "iface", Usage: "network `INTERFACE` for xdp and tc programs"},
			&cli.StringFlag{Name: "cgroup", Usage: "cgroup v2 `DIR` for cgroup programs"},
			&cli.StringSliceFlag{Name: "event-type", Usage: "decode records as BTF struct `[MAP=]NAME` (default: guessed from the output helper calls; hex when unknown)"},
			&cli.BoolFlag{Name: "trace", Usage: "also print bpf_printk output from trace_pipe"},
			&cli.DurationFlag{Name: "duration", Usage: "stop after `D` (e.g. 10s)"},
			&cli.StringFlag{Name: "kernel-btf", Usage: "BTF `FILE` for CO-RE relocations instead of the running kernel's"},
		},
		Action: runAction,
	}
}

// attachedJSON and the types below are run's JSON lines.
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
}

type startJSON struct {
	Attached []attachedJSON `json:"attached"`
	Skipped  []skippedJSON  `json:"skipped"`
	Sources  []sourceJSON   `json:"sources"`
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
}

type summaryJSON struct {
	Summary struct {
		Programs []progSummaryJSON   `json:"programs"`
		Sources  []sourceSummaryJSON `json:"sources"`
	} `json:"summary"`
}

// runAction is `bpfkit run OBJ [flags]`.
func runAction(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) != 1 {
		return errors.New("run: expected one object file (flags go before it)")
	}
	obj, err := loader.OpenObject(words[0])
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	// The struct each source's records carry: --event-type for all, or a
	// guess from the programs' output helper calls.
	types := loader.EventTypes(obj)
	for _, spec := range c.StringSlice("event-type") {
		mapName, name, one := strings.Cut(spec, "=")
		if !one {
			name = spec
		} else if obj.Spec.Maps[mapName] == nil {
			return fmt.Errorf("run: --event-type %s: no map %s in the object", spec, mapName)
		}
		st, err := loader.EventType(obj, name)
		if err != nil {
			return fmt.Errorf("run: --event-type: %w", err)
		}
		for _, m := range obj.Maps {
			if !one || m == mapName {
				types[m] = st
			}
		}
	}
	out := outputFor(c)
	line := *out
	line.Pretty = false // JSON lines, one object each
	// Records are buffered and flushed whenever no more are waiting, so a
	// busy stream costs few writes and a quiet one shows every record at
	// once.
	bw := bufio.NewWriterSize(out.W, 64*1024)
	line.W = bw

	// A write to a closed stdout must fail, not kill bpfkit before it
	// cleans up.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if d := c.Duration("duration"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if f, ok := c.App.Writer.(*os.File); ok {
		go watchClosed(ctx, cancel, f)
	}

	var tp *events.TracePipe
	if c.Bool("trace") {
		if tp, err = events.OpenTracePipe(!c.Bool("nomount")); err != nil {
			return fmt.Errorf("run: --trace: %w", err)
		}
		defer tp.Close()
		// Lines written before this run are not its programs' output.
		if err := tp.DiscardBacklog(100 * time.Millisecond); err != nil {
			return fmt.Errorf("run: --trace: %w", err)
		}
	}

	lopts := loader.LoadOptions{KernelBTF: c.String("kernel-btf")}
	debugLogs(c, &lopts)
	s, err := loader.StartRun(obj, loader.RunOptions{
		Load:   lopts,
		Set:    c.StringSlice("set"),
		Attach: loader.AttachOptions{Iface: c.String("iface"), Cgroup: c.String("cgroup")},
	})
	if err != nil {
		printVerifierLog(c, err)
		return fmt.Errorf("run: %w", err)
	}
	defer s.Close()

	if err := printStart(out, &line, c, s); err != nil || bw.Flush() != nil {
		return nil // stdout closed
	}

	traces := make(chan events.TraceLine, 64)
	if tp != nil {
		go func() {
			for {
				l, err := tp.Next()
				if err != nil {
					return
				}
				select {
				case traces <- l:
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	stdoutOK := true
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case r, ok := <-s.Records():
			if !ok {
				break loop
			}
			if err := printRecord(&line, r, types[r.Map]); err != nil {
				stdoutOK = false
				break loop
			}
		case l := <-traces:
			var err error
			if line.JSON {
				err = line.PrintJSON(traceLineJSON{Trace: traceJSON{Task: l.Task, PID: l.PID, CPU: l.CPU, Timestamp: l.Timestamp, Message: l.Message}})
			} else {
				_, err = fmt.Fprintf(line.W, "trace_pipe: %s\n", strings.TrimSpace(l.Raw))
			}
			if err != nil {
				stdoutOK = false
				break loop
			}
		}
		if len(s.Records()) == 0 && len(traces) == 0 {
			if err := bw.Flush(); err != nil {
				stdoutOK = false
				break loop
			}
		}
	}
	if stdoutOK && bw.Flush() != nil {
		stdoutOK = false
	}
	if tp != nil {
		tp.Close()
	}
	progs, srcs := s.Summary()
	s.Close()
	if !stdoutOK {
		return nil
	}
	printSummary(out, &line, progs, srcs)
	bw.Flush()
	return nil
}

// watchClosed cancels the run when f (stdout) is a pipe or socket whose
// reader went away, even while no event is being written.
func watchClosed(ctx context.Context, cancel context.CancelFunc, f *os.File) {
	fds := []unix.PollFd{{Fd: int32(f.Fd())}}
	for ctx.Err() == nil {
		n, err := unix.Poll(fds, 200)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
			cancel()
			return
		}
	}
}

func printStart(out, line *output, c *cli.Context, s *loader.Session) error {
	if out.JSON {
		var st startJSON
		st.Attached, st.Skipped, st.Sources = []attachedJSON{}, []skippedJSON{}, []sourceJSON{}
		for _, a := range s.Attached {
			st.Attached = append(st.Attached, attachedJSON{a.Program, a.Section, a.Hook, a.LinkID})
		}
		for _, k := range s.Skipped {
			st.Skipped = append(st.Skipped, skippedJSON{k.Program, k.Section, k.Reason})
		}
		for _, src := range s.Sources {
			st.Sources = append(st.Sources, sourceJSON{src.Map, src.Type, src.ID})
		}
		return line.PrintJSON(st)
	}
	rows := make([][]string, 0, len(s.Attached))
	for _, a := range s.Attached {
		rows = append(rows, []string{a.Program, a.Hook, idOrDash(a.LinkID)})
	}
	if len(rows) > 0 {
		if err := out.Table([]string{"PROGRAM", "ATTACHED TO", "LINK"}, rows); err != nil {
			return err
		}
	}
	for _, k := range s.Skipped {
		if _, err := fmt.Fprintf(out.W, "skipped %s (%s): %s\n", k.Program, k.Section, k.Reason); err != nil {
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
	if c.Bool("trace") {
		what += " and trace_pipe"
	}
	_, err := fmt.Fprintf(out.W, "reading %s; Ctrl-C to stop\n", what)
	return err
}

// decode renders a record as its struct, or returns "" when there is no
// type or the record is shorter than the struct. Perf records may carry up
// to 7 bytes of padding after the struct.
func decode(typ *ebpfbtf.Struct, data []byte, mode bpfbtf.ValueMode) string {
	if typ == nil || len(data) < int(typ.Size) {
		return ""
	}
	s, err := bpfbtf.FormatValue(typ, data[:typ.Size], mode)
	if err != nil {
		return ""
	}
	return s
}

func printRecord(line *output, r loader.Record, typ *ebpfbtf.Struct) error {
	if r.Lost > 0 {
		if line.JSON {
			return line.PrintJSON(lostJSON{Map: r.Map, CPU: r.CPU, Lost: r.Lost})
		}
		_, err := fmt.Fprintf(line.W, "%s: lost %d events on CPU %d\n", r.Map, r.Lost, r.CPU)
		return err
	}
	if line.JSON {
		ev := eventJSON{Map: r.Map, Size: len(r.Data), Data: make([]string, len(r.Data))}
		if r.CPU >= 0 {
			cpu := r.CPU
			ev.CPU = &cpu
		}
		for i, b := range r.Data {
			ev.Data[i] = "0x" + strconv.FormatUint(uint64(b)|0x100, 16)[1:]
		}
		if typ != nil {
			ev.Type = "struct " + typ.Name
			if f := decode(typ, r.Data, bpfbtf.ValueJSON); f != "" {
				ev.Formatted = json.RawMessage(f)
			}
		}
		return line.PrintJSON(ev)
	}
	where := ""
	if r.CPU >= 0 {
		where = fmt.Sprintf(" CPU %d", r.CPU)
	}
	at := time.Now().Format("15:04:05.000000")
	if f := decode(typ, r.Data, bpfbtf.ValuePlain); f != "" {
		_, err := fmt.Fprintf(line.W, "%s %s%s: %s\n", at, r.Map, where, f)
		return err
	}
	what := ""
	if typ != nil {
		what = "struct " + typ.Name + ", "
	}
	if _, err := fmt.Fprintf(line.W, "== %s%s: %s%d bytes at %s\n", r.Map, where, what, len(r.Data), at); err != nil {
		return err
	}
	_, err := fmt.Fprint(line.W, hex.Dump(r.Data))
	return err
}

func printSummary(out, line *output, progs []loader.ProgramSummary, srcs []loader.SourceSummary) {
	if out.JSON {
		var sj summaryJSON
		sj.Summary.Programs, sj.Summary.Sources = []progSummaryJSON{}, []sourceSummaryJSON{}
		for _, p := range progs {
			sj.Summary.Programs = append(sj.Summary.Programs, progSummaryJSON{p.Name, p.ID, p.Type, p.Hook, p.RunCount, p.RunTime.Nanoseconds()})
		}
		for _, s := range srcs {
			sj.Summary.Sources = append(sj.Summary.Sources, sourceSummaryJSON(s))
		}
		line.PrintJSON(sj)
		return
	}
	fmt.Fprintln(out.W)
	rows := make([][]string, 0, len(progs))
	for _, p := range progs {
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
	out.Table([]string{"PROGRAM", "ID", "TYPE", "ATTACHED TO", "RUNS", "RUN TIME", "AVG"}, rows)
	for _, s := range srcs {
		fmt.Fprintf(out.W, "%s: %d records, %d lost\n", s.Map, s.Records, s.Lost)
	}
	fmt.Fprintln(out.W, "detached and unloaded everything")
}
