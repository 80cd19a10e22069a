package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/asm/assembler"
	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/bpfkit/bpfkit/objects/loader"
)

func asmCommand() *cli.Command {
	demo := &cli.Command{
		Name:  "demo",
		Usage: "load a hand-written program that writes 123 to a perf event array on every openat, and watch it",
		ArgsUsage: "[count N] [timeout DURATION] [dry-run] | source\n\n" +
			"count N           stop after N records (default 5; 0: until Ctrl-C)\n" +
			"timeout DURATION  stop after this long, e.g. 10s\n" +
			"dry-run           print the program and exit without loading it\n" +
			"source            print the program as an assembly file (asm build or run take it)",
		Action: catchSignals(asmDemo),
	}
	dump := &cli.Command{
		Name:      "dump",
		Usage:     "write an object file as an assembly file that asm build builds back",
		ArgsUsage: "OBJ [program NAME]",
		Action:    asmDump,
	}
	build := &cli.Command{
		Name:      "build",
		Usage:     "assemble an assembly file (kernel syntax, docs/asm.md) into a BPF object file",
		ArgsUsage: "FILE.s OUT.o",
		Action:    asmBuild,
	}
	return &cli.Command{
		Name:        "asm",
		Usage:       "learn BPF assembly: dump objects as assembly, build assembly into objects, the hand-written demo",
		ArgsUsage:   "COMMAND",
		Subcommands: []*cli.Command{demo, dump, build},
	}
}

// asmDump is `asm dump OBJ [program NAME]`.
func asmDump(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) != 1 && !(len(words) == 3 && words[1] == "program") {
		return errors.New("asm dump: expected OBJ [program NAME]")
	}
	if err := out(c).TextOnly(errors.New("asm dump: the assembly file is text; it has no JSON form")); err != nil {
		return err
	}
	f, err := elfobj.Open(words[0])
	if err != nil {
		return err
	}
	noteEmbedded(c, words[0], f)
	var opts assembler.DumpOptions
	if len(words) == 3 {
		opts.Program = words[2]
	}
	text, _, err := assembler.Dump(f, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", words[0], err)
	}
	_, err = c.App.Writer.Write(text)
	return err
}

// asmBuild is `asm build FILE.s OUT.o`.
func asmBuild(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) != 2 {
		return errors.New("asm build: expected FILE.s OUT.o")
	}
	src, err := os.ReadFile(words[0])
	if err != nil {
		return err
	}
	obj, err := assembler.Assemble(words[0], src)
	if err != nil {
		return err
	}
	return os.WriteFile(words[1], obj, 0o644)
}

type demoArgs struct {
	count   int
	timeout time.Duration
	dryRun  bool
	source  bool
}

func parseDemoArgs(words []string) (demoArgs, error) {
	a := demoArgs{count: 5}
	for len(words) > 0 {
		kw, ok := matchKeyword(words[0], "count", "timeout", "dry-run", "source")
		if !ok {
			return a, fmt.Errorf("unknown argument '%s': expected count, timeout, dry-run or source", words[0])
		}
		if kw == "source" {
			a.source = true
			words = words[1:]
			continue
		}
		if kw == "dry-run" {
			a.dryRun = true
			words = words[1:]
			continue
		}
		if len(words) < 2 {
			return a, fmt.Errorf("'%s' needs a value", kw)
		}
		switch kw {
		case "count":
			n, err := strconv.Atoi(words[1])
			if err != nil || n < 0 {
				return a, fmt.Errorf("can't parse count %s: want a whole number", words[1])
			}
			a.count = n
		case "timeout":
			d, err := time.ParseDuration(words[1])
			if err != nil || d <= 0 {
				return a, fmt.Errorf("can't parse timeout %s: want a duration such as 10s", words[1])
			}
			a.timeout = d
		}
		words = words[2:]
	}
	return a, nil
}

// demoQuiet is how long the demo waits for an openat before it opens a
// file itself.
const demoQuiet = time.Second

// asmDemo is `asm demo`: print the program, load it, attach it to
// sys_enter_openat and print records until count, timeout or Ctrl-C.
func asmDemo(c *cli.Context) error {
	args, err := parseDemoArgs(c.Args().Slice())
	if err != nil {
		return err
	}
	if args.source {
		src, err := assembler.DemoSource()
		if err != nil {
			return fmt.Errorf("demo source: %w", err)
		}
		_, err = c.App.Writer.Write(src)
		return err
	}
	if err := out(c).TextOnly(errors.New("asm demo: the demo talks to a person and has no JSON output; inspect it with bpfkit -j prog show name bpfkit_demo")); err != nil {
		return err
	}
	pr := out(c).Demo()
	lines, err := bpfasm.Listing(bpfasm.DemoInstructions(), bpfasm.Options{Labels: true})
	if err != nil {
		return fmt.Errorf("list demo: %w", err)
	}
	if args.dryRun {
		return pr.Intro(lines)
	}
	if err := ensureTracefs(c); err != nil {
		return err
	}
	// Loaded before the listing is printed: without privilege the demo
	// fails with nothing printed but the error.
	demo, err := loader.StartDemo()
	if err != nil {
		return err
	}
	defer demo.Close()
	if err := stopped(c); err != nil {
		return err
	}
	// A signal ends the demo as its count or timeout would.
	go func() {
		<-c.Context.Done()
		demo.Close()
	}()
	if err := pr.Intro(lines); err != nil {
		return err
	}
	var xlated []bpfasm.Line
	if info, err := demo.ProgramInfo(); err == nil {
		xlated, _ = bpfasm.Xlated(info, kernelSymbols())
	}
	pr.Loaded(demo, xlated)
	pr.Waiting(args.count)

	var deadline time.Time
	if args.timeout > 0 {
		deadline = time.Now().Add(args.timeout)
	}
	var got int
	var lost uint64
	for args.count == 0 || got < args.count {
		// On a quiet machine no openat may come: after demoQuiet the
		// demo makes one itself, and says so.
		wait := time.Now().Add(demoQuiet)
		if !deadline.IsZero() && deadline.Before(wait) {
			wait = deadline
		}
		rec, err := demo.Read(wait)
		if errors.Is(err, os.ErrDeadlineExceeded) && (deadline.IsZero() || time.Now().Before(deadline)) {
			pr.Quiet(demoQuiet, loader.DemoTriggerFile)
			if err := demo.Trigger(); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, loader.ErrDemoClosed) {
			break
		}
		if err != nil {
			return fmt.Errorf("read demo record: %w", err)
		}
		if rec.Lost > 0 {
			lost += rec.Lost
		} else {
			got++
		}
		pr.Record(rec)
	}
	if err := demo.Close(); err != nil {
		return fmt.Errorf("unload demo: %w", err)
	}
	return pr.End(got, lost)
}
