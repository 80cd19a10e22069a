// Command lists is the `make bench` listing benchmark. For each count of
// objects (2,000 and 20,000 by default) it loads that many small programs
// (sharing one map), creates that many maps and attaches that many raw
// tracepoint links (one program on initcall_start, which fires only when a
// module loads), then times `prog list`, `map list` and `link list`, as a
// table and with -j, for bpfkit, Debian's bpftool v7.1.0 and upstream
// bpftool v7.8.0, interleaved in the same run (median of several runs,
// output to /dev/null). It checks that every tool lists every object it
// made, and times bpfkit's scan of /proc for the processes holding objects
// (this process holds all of them). Everything is unloaded on exit.
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
	if *hold {
		set, err := load(ns[0])
		if err != nil {
			return err
		}
		defer set.close()
		fmt.Printf("%d programs, %d maps and %d links loaded (%s*); Ctrl-C unloads them\n", ns[0]+1, ns[0]+1, ns[0], *prefix)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, unix.SIGTERM)
		<-sig
		return nil
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
	fmt.Printf("%-8d bpfkit's /proc scan for owners (this process holds %d objects): %.1f ms\n", n, set.held(), timing.Ms(scan))
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

// objectSet is what one count loads: programs, maps and links, and their
// ids by noun.
type objectSet struct {
	closers []interface{ Close() error }
	ids     map[string]map[uint32]bool
}

func (s *objectSet) held() int { return len(s.closers) }

func (s *objectSet) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i].Close()
	}
}

// load makes n programs (and the map they share), n maps and n links (and
// the program behind them). The file descriptor limit is raised to hold
// them all.
func load(n int) (*objectSet, error) {
	if err := raiseFDLimit(uint64(3*n + 1024)); err != nil {
		return nil, err
	}
	s := &objectSet{ids: map[string]map[uint32]bool{"prog": {}, "map": {}, "link": {}}}
	fail := func(err error) (*objectSet, error) {
		s.close()
		return nil, err
	}
	shared, err := ebpf.NewMap(&ebpf.MapSpec{Name: *prefix + "pmap", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		return fail(fmt.Errorf("create map: %w", err))
	}
	s.closers = append(s.closers, shared)
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
		s.closers = append(s.closers, p)
		if err := s.addProg(p); err != nil {
			return fail(err)
		}
	}
	for i := range n {
		m, err := ebpf.NewMap(&ebpf.MapSpec{Name: fmt.Sprintf("%sm%d", *prefix, i), Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
		if err != nil {
			return fail(fmt.Errorf("create map %d: %w", i, err))
		}
		s.closers = append(s.closers, m)
		if err := s.addMap(m); err != nil {
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
	s.closers = append(s.closers, lp)
	for i := range n {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tracepoint, Program: lp})
		if err != nil {
			return fail(fmt.Errorf("attach link %d: %w", i, err))
		}
		s.closers = append(s.closers, l)
		info, err := l.Info()
		if err != nil {
			return fail(fmt.Errorf("link %d: %w", i, err))
		}
		s.ids["link"][uint32(info.ID)] = true
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

// raiseFDLimit lets this process hold n file descriptors.
func raiseFDLimit(n uint64) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= n {
		return nil
	}
	lim.Cur = n
	if lim.Max < n {
		lim.Max = n
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raise the file descriptor limit to %d: %w", n, err)
	}
	return nil
}
