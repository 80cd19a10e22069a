package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/asm/assembler"
	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/bpfkit/bpfkit/objects/loader"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "load an object, attach every program by its section and print its events until Ctrl-C",
		ArgsUsage: `OBJ

OBJ is an object file, or an assembly file (.s, see asm build) built first.

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
			&cli.StringSliceFlag{Name: "event-type", Usage: "decode records as type `[MAP=]NAME`: a struct, union or typedef of the object's BTF or DWARF, or an integer such as u32 (default: found from the output helper calls; hex when unknown)"},
			&cli.BoolFlag{Name: "self", Usage: "keep the records and trace lines bpfkit itself causes (left out by default)"},
			&cli.BoolFlag{Name: "trace", Usage: "also print bpf_printk output from trace_pipe"},
			&cli.DurationFlag{Name: "duration", Usage: "stop after `D` (e.g. 10s)"},
			&cli.StringFlag{Name: "kernel-btf", Usage: "BTF `FILE` for CO-RE relocations instead of the running kernel's"},
		},
		Action: catchSignals(runAction),
	}
}

// openRunObject opens an object file, or builds an assembly file (.s)
// first, as asm build would.
func openRunObject(path string) (*loader.Object, error) {
	if !strings.HasSuffix(path, ".s") {
		return loader.Open(path)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	built, err := assembler.Assemble(path, src)
	if err != nil {
		return nil, err
	}
	f, err := elfobj.Read(built)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return loader.FromELF(path, f)
}

// runAction is `bpfkit run OBJ [flags]`.
func runAction(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) != 1 {
		return errors.New("run: expected one object file (flags go before it)")
	}
	obj, err := openRunObject(words[0])
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	pr := out(c).Run()

	ctx := c.Context
	if d := c.Duration("duration"); c.IsSet("duration") && d <= 0 {
		return fmt.Errorf("run: --duration must be more than zero, got %s", d)
	}
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
	s, err := loader.StartRunContext(c.Context, obj, loader.RunOptions{
		Load:       lopts,
		Set:        c.StringSlice("set"),
		Attach:     loader.AttachOptions{Iface: c.String("iface"), Cgroup: c.String("cgroup")},
		EventTypes: c.StringSlice("event-type"),
		KeepSelf:   c.Bool("self"),
	})
	if err != nil {
		printVerifierLog(c, err)
		return fmt.Errorf("run: %w", err)
	}
	defer s.Close()
	for _, w := range s.Warnings {
		out(c).Warn("Warning: %s", w)
	}

	if err := pr.Start(s, c.Bool("trace")); err != nil || pr.Flush() != nil {
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
				// A "\n" ending a bpf_printk format leaves an empty line.
				if strings.TrimSpace(l.Raw) == "" || s.Own(l) {
					continue
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
			if err := pr.Record(r); err != nil {
				stdoutOK = false
				break loop
			}
		case l := <-traces:
			if err := pr.Trace(l); err != nil {
				stdoutOK = false
				break loop
			}
		}
		if len(s.Records()) == 0 && len(traces) == 0 {
			if err := pr.Flush(); err != nil {
				stdoutOK = false
				break loop
			}
		}
	}
	if stdoutOK && pr.Flush() != nil {
		stdoutOK = false
	}
	if tp != nil {
		tp.Close()
	}
	sum := s.Summary()
	s.Close()
	if !stdoutOK {
		return nil
	}
	pr.Summary(sum)
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
