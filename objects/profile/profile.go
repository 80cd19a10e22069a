package profile

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects/loader"
)

// Reading is one metric summed over the CPUs: the counter's value, and
// how long the counter was enabled and running (less than enabled when
// the CPU's counters were multiplexed).
type Reading struct {
	Metric                  Metric
	Value, Enabled, Running uint64
}

// Result is what a profile measured.
type Result struct {
	// RunCnt is how many runs of the target were measured.
	RunCnt   uint64
	Readings []Reading
}

// value is struct bpf_perf_event_value.
type value struct{ Counter, Enabled, Running uint64 }

const valueSize = 24

// Session is a profile under way: the fentry/fexit programs attached to
// the target and the perf events they read.
type Session struct {
	metrics []Metric
	// events has one perf event array per metric, indexed by CPU
	// (cilium/ebpf makes perf event arrays no longer than the CPUs).
	events                []*ebpf.Map
	fentry, accum, counts *ebpf.Map
	progs                 []*ebpf.Program
	links                 []link.Link
	perf                  []int
}

// Start attaches the profiler to target and starts counting metrics on
// every CPU. The caller stops it with Stop, which also frees everything.
func Start(target *ebpf.Program, metrics []Metric) (_ *Session, err error) {
	fn, err := targetName(target)
	if err != nil {
		return nil, err
	}
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, err
	}
	s := &Session{metrics: metrics}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := s.createMaps(ncpu, ""); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name, section string
		attach        ebpf.AttachType
		insns         asm.Instructions
	}{
		{"fentry_XXX", "fentry", ebpf.AttachTraceFEntry, s.fentryInsns()},
		{"fexit_XXX", "fexit", ebpf.AttachTraceFExit, s.fexitInsns()},
	} {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name: p.name, Type: ebpf.Tracing, AttachType: p.attach,
			AttachTarget: target, AttachTo: fn, License: "GPL", Instructions: p.insns,
		})
		if err != nil {
			return nil, &loader.ProgramLoadError{Program: p.name, Section: p.section + "/" + fn, Err: err}
		}
		s.progs = append(s.progs, prog)
	}
	if err := s.openEvents(ncpu); err != nil {
		return nil, err
	}
	for _, prog := range s.progs {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			return nil, fmt.Errorf("failed to attach the profiler to %s: %w", fn, err)
		}
		s.links = append(s.links, l)
	}
	return s, nil
}

// createMaps creates the profiler's maps, each name after prefix.
func (s *Session) createMaps(ncpu int, prefix string) error {
	n := uint32(len(s.metrics))
	specs := []struct {
		dst  **ebpf.Map
		spec ebpf.MapSpec
	}{
		{&s.fentry, ebpf.MapSpec{Name: "fentry_readings", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: valueSize, MaxEntries: n}},
		{&s.accum, ebpf.MapSpec{Name: "accum_readings", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: valueSize, MaxEntries: n}},
		{&s.counts, ebpf.MapSpec{Name: "counts", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1}},
	}
	s.events = make([]*ebpf.Map, n)
	for i := range s.events {
		specs = append(specs, struct {
			dst  **ebpf.Map
			spec ebpf.MapSpec
		}{&s.events[i], ebpf.MapSpec{Name: fmt.Sprintf("events%d", i), Type: ebpf.PerfEventArray, MaxEntries: uint32(ncpu)}})
	}
	for _, m := range specs {
		m.spec.Name = prefix + m.spec.Name
		var err error
		if *m.dst, err = ebpf.NewMap(&m.spec); err != nil {
			return fmt.Errorf("create map %s: %w", m.spec.Name, err)
		}
	}
	return nil
}

// targetName is the name of the target's main function in its BTF, what
// fentry and fexit attach to.
func targetName(target *ebpf.Program) (string, error) {
	info, err := target.Info()
	if err != nil {
		return "", err
	}
	funcs, err := info.FuncInfos()
	if err != nil {
		return "", fmt.Errorf("the program doesn't have valid BTF (profiling needs its function info): %w", err)
	}
	for _, f := range funcs {
		if f.Offset == 0 && f.Func != nil {
			return f.Func.Name, nil
		}
	}
	return "", errors.New("the program's BTF has no function at instruction 0")
}

// openEvents opens each metric's perf event on each CPU and stores it in
// the metric's events map at the CPU; an offline CPU is left out.
func (s *Session) openEvents(ncpu int) error {
	for i, m := range s.metrics {
		for cpu := range ncpu {
			attr := unix.PerfEventAttr{Type: m.Type, Config: m.Config, Bits: unix.PerfBitExcludeUser}
			attr.Size = uint32(unsafe.Sizeof(attr))
			fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
			if errors.Is(err, unix.ENODEV) {
				continue // an offline CPU
			}
			if err != nil {
				hint := ""
				if m.Type != unix.PERF_TYPE_SOFTWARE && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP)) {
					hint = " (this machine has no such hardware counter: a virtual machine without a virtual PMU? cpu_clock is a software counter)"
				}
				return fmt.Errorf("failed to create event %s on cpu %d: %w%s", m.Name, cpu, err, hint)
			}
			s.perf = append(s.perf, fd)
			if err := s.events[i].Update(uint32(cpu), uint32(fd), ebpf.UpdateAny); err != nil {
				return fmt.Errorf("failed to store event %s on cpu %d: %w", m.Name, cpu, err)
			}
			if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
				return fmt.Errorf("failed to enable event %s on cpu %d: %w", m.Name, cpu, err)
			}
		}
	}
	return nil
}

// Stop detaches the profiler, reads what it measured and frees it all.
func (s *Session) Stop() (*Result, error) {
	s.detach()
	defer s.close()
	r := &Result{}
	var counts []uint64
	if err := s.counts.Lookup(uint32(0), &counts); err != nil {
		return nil, fmt.Errorf("failed to read count_map: %w", err)
	}
	for _, c := range counts {
		r.RunCnt += c
	}
	for i, m := range s.metrics {
		var vals []value
		if err := s.accum.Lookup(uint32(i), &vals); err != nil {
			return nil, fmt.Errorf("failed to read reading_map: %w", err)
		}
		rd := Reading{Metric: m}
		for _, v := range vals {
			rd.Value += v.Counter
			rd.Enabled += v.Enabled
			rd.Running += v.Running
		}
		r.Readings = append(r.Readings, rd)
	}
	return r, nil
}

// detach detaches fexit before fentry (the reverse of attaching): a run
// while only fexit were attached would add the time since the last
// fentry reading, a stale one.
func (s *Session) detach() {
	for i := len(s.links) - 1; i >= 0; i-- {
		s.links[i].Close()
	}
	s.links = nil
}

func (s *Session) close() {
	s.detach()
	for _, p := range s.progs {
		p.Close()
	}
	for _, fd := range s.perf {
		unix.Close(fd)
	}
	for _, m := range append([]*ebpf.Map{s.fentry, s.accum, s.counts}, s.events...) {
		if m != nil {
			m.Close()
		}
	}
}
