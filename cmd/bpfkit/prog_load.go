package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/bpfkit/bpfkit/objects/loader"
)

const loadOptionsUsage = `[type TYPE] [map {idx IDX | name NAME} MAP]... [pinmaps MAP_DIR] [autoattach] [kernel_btf BTF_FILE]

MAP := { id ID | pinned FILE | name NAME }
TYPE is a section name or its first word: xdp, kprobe, tracepoint, cgroup/skb, ...`

// progLoadCommands are prog's verbs that put objects into the kernel or
// read their output: load, loadall, pin and tracelog.
func progLoadCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:      "load",
			Usage:     "load an object file and pin its first program at PATH",
			ArgsUsage: "OBJ PATH " + loadOptionsUsage,
			Action:    catchSignals(func(c *cli.Context) error { return progLoad(c, false) }),
		},
		{
			Name:      "loadall",
			Usage:     "load an object file and pin every program under PATH",
			ArgsUsage: "OBJ PATH " + loadOptionsUsage,
			Action:    catchSignals(func(c *cli.Context) error { return progLoad(c, true) }),
		},
		pinCommand(objects.Programs, "prog", progSpec),
		{
			Name:      "tracelog",
			Usage:     "print bpf_printk output (trace_pipe) until Ctrl-C",
			ArgsUsage: " ",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "fields",
				Usage: "with -j, print each line as an object of its fields (task, pid, cpu, timestamp, message) instead of bpftool's array of lines"}},
			Action: catchSignals(progTracelog),
		},
	}
}

// progLoad is `prog load` and `prog loadall`.
func progLoad(c *cli.Context, all bool) error {
	verb := "prog load"
	if all {
		verb = "prog loadall"
	}
	words := c.Args().Slice()
	if len(words) < 2 {
		return fmt.Errorf("%s: expected OBJ and PATH", verb)
	}
	objPath, pinPath := words[0], words[1]
	var lopts loader.LoadOptions
	req := loader.PinRequest{Path: pinPath, All: all}
	var reused []*ebpf.Map
	defer func() {
		for _, m := range reused {
			m.Close()
		}
	}()
	for rest := words[2:]; len(rest) > 0; {
		kw, ok := matchKeyword(rest[0], "type", "map", "pinmaps", "autoattach", "kernel_btf", "offload_dev", "xdpmeta_dev")
		if !ok {
			return fmt.Errorf("%s: expected no more arguments, 'type', 'map', 'pinmaps', 'autoattach' or 'kernel_btf', got: '%s'", verb, rest[0])
		}
		rest = rest[1:]
		need := func(what string) (string, error) {
			if len(rest) == 0 {
				return "", fmt.Errorf("%s: %s needs %s", verb, kw, what)
			}
			v := rest[0]
			rest = rest[1:]
			return v, nil
		}
		var err error
		switch kw {
		case "type":
			if lopts.Type, err = need("a program type"); err != nil {
				return err
			}
			if _, _, ok := elfobj.ProgramSection(lopts.Type); !ok {
				return fmt.Errorf("%s: unknown program type %q (known: %s)", verb, lopts.Type, strings.Join(elfobj.SectionNames(), ", "))
			}
		case "map":
			var r loader.MapReuse
			how, err := need("idx IDX or name NAME")
			if err != nil {
				return err
			}
			val, err := need("an index or a name")
			if err != nil {
				return err
			}
			switch k, _ := matchKeyword(how, "idx", "name"); k {
			case "idx":
				n, perr := strconv.ParseUint(val, 0, 31)
				if perr != nil {
					return fmt.Errorf("%s: can't parse map index %q", verb, val)
				}
				r.Index = int(n)
			case "name":
				r.Name = val
			default:
				return fmt.Errorf("%s: expected 'idx' or 'name', got: '%s'", verb, how)
			}
			sel, after, err := objects.Maps.ParseSelector(rest)
			if err != nil {
				return fmt.Errorf("%s: %w", verb, err)
			}
			rest = after
			if r.Map, err = objects.Maps.OpenOne(sel); err != nil {
				return fmt.Errorf("%s: %w", verb, err)
			}
			reused = append(reused, r.Map)
			lopts.Reuse = append(lopts.Reuse, r)
		case "pinmaps":
			if req.PinMaps, err = need("a directory"); err != nil {
				return err
			}
		case "autoattach":
			req.AutoAttach = true
		case "kernel_btf":
			if lopts.KernelBTF, err = need("a BTF file"); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: %s is not supported (no device offload in bpfkit)", verb, kw)
		}
	}

	debugLogs(c, &lopts)
	if err := ensureBPFFS(c); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	obj, err := loader.Open(objPath)
	if err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	pins, err := loader.LoadAndPinContext(c.Context, obj, lopts, req)
	if err != nil {
		printVerifierLog(c, err)
		return fmt.Errorf("%s: %w", verb, err)
	}
	for _, p := range pins {
		if p.Note != "" && p.Kind == "prog" {
			out(c).Info("%s", p.Note)
		}
	}
	return out(c).Null()
}

// debugLogs asks, with -d, for the verifier log of every program loaded
// and prints each on stderr, as bpftool -d does.
func debugLogs(c *cli.Context, lopts *loader.LoadOptions) {
	if !c.Bool("debug") {
		return
	}
	lopts.LogLevel = ebpf.LogLevelBranch | ebpf.LogLevelInstruction | ebpf.LogLevelStats // bpftool -d: 1|2|4
	lopts.OnVerifierLog = func(program, log string) {
		out(c).VerifierLog("Verifier log of "+program+":", strings.Split(strings.TrimRight(log, "\n"), "\n"))
	}
}

// verifierTail is how many verifier log lines an error shows without -d.
const verifierTail = 20

// printVerifierLog prints the verifier log of a rejected program: its
// tail, or all of it with -d.
func printVerifierLog(c *cli.Context, err error) {
	var pe *loader.ProgramLoadError
	if !errors.As(err, &pe) || len(pe.Log) == 0 {
		return
	}
	lines := pe.Log
	head := fmt.Sprintf("Verifier log of %s:", pe.Program)
	if !c.Bool("debug") && len(lines) > verifierTail {
		head = fmt.Sprintf("Verifier log of %s (last %d of %d lines; -d prints it all):", pe.Program, verifierTail, len(lines))
		lines = lines[len(lines)-verifierTail:]
	}
	out(c).VerifierLog(head, lines)
}

// progTracelog is `prog tracelog`: trace_pipe until Ctrl-C or SIGTERM.
func progTracelog(c *cli.Context) error {
	if err := noMoreArgs(c.Args().Slice()); err != nil {
		return fmt.Errorf("prog tracelog: %w", err)
	}
	tp, err := events.OpenTracePipe(!c.Bool("nomount"))
	if err != nil {
		return fmt.Errorf("prog tracelog: %w", err)
	}
	ctx := c.Context
	go func() {
		<-ctx.Done()
		tp.Close()
	}()
	p := out(c).TraceLog(c.Bool("fields"))
	for {
		l, err := tp.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrClosed) {
				return p.End()
			}
			p.End()
			return fmt.Errorf("prog tracelog: %w", err)
		}
		if werr := p.Line(l); werr != nil {
			return nil // stdout closed
		}
	}
}
