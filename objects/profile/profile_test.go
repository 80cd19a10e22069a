package profile

import (
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// cpuClock is a software metric: counters that every kernel has, for
// testing the profiler's programs where hardware counters are missing.
var cpuClock = Metric{Name: "cpu_clock", Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_CPU_CLOCK}

// TestProfilerPrograms checks the profiler's fentry and fexit programs
// where fentry cannot attach: loaded as raw tracepoint programs (the same
// helpers) and run once each on one CPU, with the CPU clock as the
// counter, they count one run and a positive difference, and Stop reads
// them back.
func TestProfilerPrograms(t *testing.T) {
	testutil.RequirePrivileged(t)
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{metrics: []Metric{cpuClock, cpuClock}}
	if err := s.createMaps(ncpu, "i12_"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	if err := s.openEvents(ncpu); err != nil {
		t.Fatal(err)
	}
	entry := testutil.NewProgram(t, &ebpf.ProgramSpec{Name: "i12_prof_entry", Type: ebpf.RawTracepoint, License: "GPL", Instructions: s.fentryInsns()})
	exit := testutil.NewProgram(t, &ebpf.ProgramSpec{Name: "i12_prof_exit", Type: ebpf.RawTracepoint, License: "GPL", Instructions: s.fexitInsns()})

	// Both runs on CPU 0: the readings are per CPU.
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the pinned thread ends with the goroutine
		var set unix.CPUSet
		set.Set(0)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			done <- err
			return
		}
		for _, p := range []*ebpf.Program{entry, exit} {
			if _, err := p.Run(&ebpf.RunOptions{Context: []uint64{0}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	r, err := s.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if r.RunCnt != 1 || len(r.Readings) != 2 {
		t.Fatalf("%+v: want one run and two readings", r)
	}
	for _, rd := range r.Readings {
		if rd.Value == 0 || rd.Enabled == 0 || rd.Running == 0 || rd.Metric.Name != "cpu_clock" {
			t.Errorf("%+v: want a CPU clock difference", rd)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	ms, err := ParseMetrics([]string{"llc_misses", "cycles", "instructions"})
	if err != nil || len(ms) != 3 || ms[0].Name != "cycles" || ms[1].Name != "instructions" || ms[2].Name != "llc_misses" {
		t.Errorf("%v, %v: want bpftool's order", ms, err)
	}
	for _, bad := range [][]string{nil, {"cycles", "cycles"}, {"bogus"}, {"cycles", "instructions", "l1d_loads", "llc_misses", "itlb_misses"}} {
		if _, err := ParseMetrics(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestStopWhileRunning profiles a program that runs in a tight loop on
// CPU 0 (BPF_PROG_TEST_RUN with repeat) while the profiler starts and
// stops: however the loop and the attaching and detaching interleave,
// the CPU time counted between entries and exits fits in the time the
// profile took (a fexit left attached after its fentry would add the time
// since a stale entry reading to each run).
func TestStopWhileRunning(t *testing.T) {
	testutil.Requires(t, "trampolines")
	target := testutil.NewXDPWithFunc(t, "i12_prof_loop")

	stop := make(chan struct{})
	looped := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the pinned thread ends with the goroutine
		var set unix.CPUSet
		set.Set(0)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			looped <- err
			return
		}
		for {
			select {
			case <-stop:
				looped <- nil
				return
			default:
			}
			if _, err := target.Run(&ebpf.RunOptions{Data: make([]byte, 64), Repeat: 20000}); err != nil {
				looped <- err
				return
			}
		}
	}()
	defer func() {
		close(stop)
		if err := <-looped; err != nil {
			t.Error(err)
		}
	}()

	for range 3 {
		began := time.Now()
		s, err := Start(target, []Metric{cpuClock})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		r, err := s.Stop()
		window := uint64(time.Since(began))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d runs, %d ns counted in %d ns", r.RunCnt, r.Readings[0].Value, window)
		if r.RunCnt == 0 {
			t.Error("no run counted")
		}
		if rd := r.Readings[0]; rd.Value > window || rd.Enabled > window {
			t.Errorf("%+v: more CPU time than the %d ns the profile took", rd, window)
		}
	}
}
