// Command lists is the `make bench` listing benchmark. For each count of
// objects (2,000 and 20,000 by default) it loads that many small programs
// (sharing one map), creates that many maps and attaches that many raw
// tracepoint links (one program on initcall_start, which fires only when a
// module loads), then times `prog list`, `map list` and `link list`, as a
// table and with -j, for bpfkit, Debian's bpftool v7.1.0 and upstream
// bpftool v7.8.0, interleaved in the same run (median of several runs,
// output to /dev/null). It checks that every tool lists every object it
// made, and times bpfkit's scan of /proc for the processes holding objects.
// The objects live as pins in one directory on bpffs, which this process
// removes when it ends (also on Ctrl-C), not as file descriptors: 20,000
// of each kind are more than the usual limit of open files. Everything is
// unloaded on exit.
//
// -hold loads the objects of the first count and waits for Ctrl-C, to
// profile a listing by hand. It needs root.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/bench/internal/timing"
	"github.com/bpfkit/bpfkit/objects"
)

var (
	reps      = flag.Int("reps", 7, "runs per command and tool (the median is reported)")
	counts    = flag.String("counts", "2000,20000", "numbers of objects of each kind, comma-separated")
	nounList  = flag.String("nouns", "prog,map,link", "the lists to time, comma-separated")
	bpftool78 = flag.String("bpftool78", "../shared/tools/bpftool-7.8/bpftool", "upstream bpftool v7.8.0 (skipped when absent)")
	prefix    = flag.String("prefix", "bench_", "name prefix of the objects made")
	hold      = flag.Bool("hold", false, "load the objects of the first count and wait for Ctrl-C")
	bpffs     = flag.String("bpffs", "/sys/fs/bpf", "the bpffs where the objects are pinned, in a directory named after -prefix")
)

// The tracepoint the links attach to: it fires only when a module's
// initcalls run.
const tracepoint = "initcall_start"

func main() { timing.Main(run) }

func run() error {
	var ns []int
	for _, s := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("bad -counts %q", *counts)
		}
		ns = append(ns, n)
	}
	nouns := strings.Split(*nounList, ",")
	tools := []tool{{"bpfkit", *timing.Bpfkit}, {"bpftool 7.1", *timing.Bpftool}}
	if _, err := os.Stat(*bpftool78); err == nil {
		tools = append(tools, tool{"bpftool 7.8", *bpftool78})
	} else {
		fmt.Fprintf(os.Stderr, "bench: no bpftool v7.8.0 at %s: timing v7.1.0 only\n", *bpftool78)
	}
	// Ctrl-C or SIGTERM unloads what is loaded: the pins go.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, unix.SIGTERM)
	go func() {
		<-sig
		os.RemoveAll(pinDir())
		os.Exit(1)
	}()
	if *hold {
		set, err := load(ns[0])
		if err != nil {
			return err
		}
		defer set.close()
		fmt.Printf("%d programs, %d maps and %d links loaded (%s*, pinned in %s); Ctrl-C unloads them\n", ns[0]+1, ns[0]+1, ns[0], *prefix, pinDir())
		select {}
	}

	fmt.Printf("list benchmark: median of %d runs, output to /dev/null; RATIO is bpftool's time over bpfkit's\n", *reps)
	header := fmt.Sprintf("%-8s %-14s %10s", "OBJECTS", "COMMAND", "BPFKIT")
	for _, t := range tools[1:] {
		header += fmt.Sprintf("  %12s  %6s", strings.ToUpper(t.name), "RATIO")
	}
	fmt.Println(header)
	for _, n := range ns {
		if err := measure(n, nouns, tools); err != nil {
			return err
		}
	}
	return nil
}

type tool struct{ name, path string }

// measure loads n objects of each kind and times the lists.
func measure(n int, nouns []string, tools []tool) error {
	set, err := load(n)
	if err != nil {
		return err
	}
	defer set.close()
	for _, noun := range nouns {
		ours := set.ids[noun]
		if ours == nil {
			return fmt.Errorf("unknown noun %q in -nouns", noun)
		}
		for _, t := range tools {
			if err := listsAll(t, noun, ours); err != nil {
				return err
			}
		}
		for _, args := range [][]string{{noun, "list"}, {"-j", noun, "list"}} {
			var cmds [][]string
			for _, t := range tools {
				cmds = append(cmds, append([]string{t.path}, args...))
			}
			times, err := timing.Medians(*reps, cmds...)
			if err != nil {
				return err
			}
			line := fmt.Sprintf("%-8d %-14s %7.1f ms", n, strings.Join(args, " "), timing.Ms(times[0]))
			for _, d := range times[1:] {
				line += fmt.Sprintf("  %9.1f ms  %5.2fx", timing.Ms(d), float64(d)/float64(times[0]))
			}
			fmt.Println(line)
		}
	}
	scan, err := scanTime()
	if err != nil {
		return err
	}
	fmt.Printf("%-8d bpfkit's /proc scan for owners: %.1f ms\n", n, timing.Ms(scan))
	return nil
}

// scanTime is the median time of objects.ScanOwners, run in this process.
func scanTime() (time.Duration, error) {
	var times []time.Duration
	for range *reps {
		start := time.Now()
		if _, err := objects.ScanOwners(); err != nil {
			return 0, err
		}
		times = append(times, time.Since(start))
	}
	return timing.Median(times), nil
}

// listsAll checks that the tool's -j NOUN list has every id in ours.
func listsAll(t tool, noun string, ours map[uint32]bool) error {
	out, err := exec.Command(t.path, "-j", noun, "list").Output()
	if err != nil {
		return fmt.Errorf("%s -j %s list: %w", t.name, noun, err)
	}
	var objs []struct {
		ID uint32 `json:"id"`
	}
	if err := json.Unmarshal(out, &objs); err != nil {
		return fmt.Errorf("%s -j %s list: %w", t.name, noun, err)
	}
	seen := 0
	for _, o := range objs {
		if ours[o.ID] {
			seen++
		}
	}
	if seen != len(ours) {
		return fmt.Errorf("%s -j %s list shows %d of the %d objects made", t.name, noun, seen, len(ours))
	}
	return nil
}

// objectSet is what one count loads: programs, maps and links pinned in
// dir, and their ids by noun.
type objectSet struct {
	dir string
	ids map[string]map[uint32]bool
}

func (s *objectSet) close() { os.RemoveAll(s.dir) }

// pinDir is where the objects are pinned.
func pinDir() string { return filepath.Join(*bpffs, *prefix+"lists") }

// keep pins obj in the set's directory and closes this process's handle.
func (s *objectSet) keep(name string, obj interface {
	Pin(string) error
	Close() error
}) error {
	defer obj.Close()
	if err := obj.Pin(filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("pin %s: %w", name, err)
	}
	return nil
}

// load makes n programs (and the map they share), n maps and n links (and
// the program behind them), each pinned in pinDir.
func load(n int) (*objectSet, error) {
	s := &objectSet{dir: pinDir(), ids: map[string]map[uint32]bool{"prog": {}, "map": {}, "link": {}}}
	if err := os.Mkdir(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("pin directory: %w (remove it if a run was killed)", err)
	}
	fail := func(err error) (*objectSet, error) {
		s.close()
		return nil, err
	}
	shared, err := ebpf.NewMap(&ebpf.MapSpec{Name: *prefix + "pmap", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		return fail(fmt.Errorf("create map: %w", err))
	}
	defer shared.Close()
	for i := range n {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name: fmt.Sprintf("%sp%d", *prefix, i), Type: ebpf.SocketFilter, License: "GPL",
			Instructions: ebpfasm.Instructions{
				ebpfasm.LoadMapPtr(ebpfasm.R1, shared.FD()),
				ebpfasm.Mov.Imm(ebpfasm.R0, 0),
				ebpfasm.Return(),
			},
		})
		if err != nil {
			return fail(fmt.Errorf("load program %d: %w", i, err))
		}
		if err := s.addProg(p); err != nil {
			p.Close()
			return fail(err)
		}
		if err := s.keep(fmt.Sprintf("p%d", i), p); err != nil {
			return fail(err)
		}
	}
	for i := range n {
		m, err := ebpf.NewMap(&ebpf.MapSpec{Name: fmt.Sprintf("%sm%d", *prefix, i), Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
		if err != nil {
			return fail(fmt.Errorf("create map %d: %w", i, err))
		}
		if err := s.addMap(m); err != nil {
			m.Close()
			return fail(err)
		}
		if err := s.keep(fmt.Sprintf("m%d", i), m); err != nil {
			return fail(err)
		}
	}
	lp, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: *prefix + "lprog", Type: ebpf.RawTracepoint, License: "GPL",
		Instructions: ebpfasm.Instructions{ebpfasm.Mov.Imm(ebpfasm.R0, 0), ebpfasm.Return()},
	})
	if err != nil {
		return fail(fmt.Errorf("load link program: %w", err))
	}
	defer lp.Close()
	for i := range n {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tracepoint, Program: lp})
		if err != nil {
			return fail(fmt.Errorf("attach link %d: %w", i, err))
		}
		info, err := l.Info()
		if err != nil {
			l.Close()
			return fail(fmt.Errorf("link %d: %w", i, err))
		}
		s.ids["link"][uint32(info.ID)] = true
		if err := s.keep(fmt.Sprintf("l%d", i), l); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

// addProg records a program's id.
func (s *objectSet) addProg(p *ebpf.Program) error {
	info, err := p.Info()
	if err != nil {
		return err
	}
	id, ok := info.ID()
	if !ok {
		return errors.New("the kernel gives no program ids")
	}
	s.ids["prog"][uint32(id)] = true
	return nil
}

// addMap records a map's id.
func (s *objectSet) addMap(m *ebpf.Map) error {
	info, err := m.Info()
	if err != nil {
		return err
	}
	id, ok := info.ID()
	if !ok {
		return errors.New("the kernel gives no map ids")
	}
	s.ids["map"][uint32(id)] = true
	return nil
}
