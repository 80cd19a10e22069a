package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// profilerNames are the names of the profiler's programs and maps: none
// may be left behind.
var profilerNames = []string{"fentry_XXX", "fexit_XXX", "fentry_readings", "accum_readings"}

// profTarget is an XDP program with BTF function info (what fentry and
// fexit attach to): it returns XDP_PASS.
func profTarget(t *testing.T) *ebpf.Program { return testutil.NewXDPWithFunc(t, "i12_prof_target") }

// hardwareCounters reports why this machine cannot count CPU cycles, or
// nil.
func hardwareCounters() error {
	attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_HARDWARE, Config: unix.PERF_COUNT_HW_CPU_CYCLES, Bits: unix.PerfBitExcludeUser}
	attr.Size = uint32(unsafe.Sizeof(attr))
	fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// profileRecord is one metric of `prog profile -j`.
type profileRecord struct {
	Metric                  string
	RunCnt                  uint64 `json:"run_cnt"`
	Value, Enabled, Running uint64
}

// TestProgProfile profiles a program the test runs (BPF_PROG_TEST_RUN)
// while the profiler is attached: -j and plain text, with the CPU clock
// (a software counter: qemu's guest has no PMU) and with cycles and
// instructions where the machine has hardware counters; where it has
// none, asking for cycles fails with one line saying so. Nothing is left
// behind.
func TestProgProfile(t *testing.T) {
	testutil.Requires(t, "trampolines")
	target := profTarget(t)
	id := progIDArg(t, target)
	before := testutil.CountByName(profilerNames...)

	metrics := [][]string{{"cpu_clock"}}
	if err := hardwareCounters(); err != nil {
		t.Logf("no hardware counters here (%v): cycles and instructions are checked to fail clearly", err)
		r := bpfkit(t, "prog", "profile", "id", id, "duration", "1", "cycles", "instructions")
		if r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
			!strings.Contains(r.stderr, "failed to create event cycles on cpu 0") || !strings.Contains(r.stderr, "no such hardware counter") {
			t.Errorf("cycles without hardware counters: exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
		}
	} else {
		metrics = append(metrics, []string{"cycles", "instructions"}, []string{"instructions", "cycles", "cpu_clock"})
	}

	for _, ms := range metrics {
		for _, json := range []bool{true, false} {
			t.Run(strings.Join(ms, "_")+map[bool]string{true: "_json", false: "_text"}[json], func(t *testing.T) {
				profileOnce(t, target, id, ms, json)
			})
		}
	}
	testutil.WaitCountsAtMost(t, before, profilerNames...)
}

// profileOnce runs `prog profile id ID duration 2 METRICS` in a child
// process while running the target on CPU 0 in batches, then checks what
// it printed: a run count no larger than the runs made (runs before the
// profiler attached are not counted), a positive value per metric, and
// CPU time no longer than the child ran.
func profileOnce(t *testing.T, target *ebpf.Program, id string, metrics []string, asJSON bool) {
	args := append([]string{"prog", "profile", "id", id, "duration", "2"}, metrics...)
	if asJSON {
		args = append([]string{"-j"}, args...)
	}
	began := time.Now()
	cmd, lines, stderr := startBpfkit(t, args...)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	runs := 0
	var err error
	timeout := time.After(time.Minute)
loop:
	for {
		select {
		case err = <-done:
			break loop
		case <-timeout:
			t.Fatalf("bpfkit %s did not end", strings.Join(args, " "))
		default:
			if err := testutil.RunOnCPU(target, 0, 10); err != nil {
				t.Fatal(err)
			}
			runs += 10
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err != nil {
		t.Fatalf("bpfkit %s: %v: %s", strings.Join(args, " "), err, stderr)
	}
	window := uint64(time.Since(began))
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	text := strings.Join(out, "\n")
	t.Logf("%d runs made; bpfkit %s:\n%s", runs, strings.Join(args, " "), text)

	var recs []profileRecord
	if asJSON {
		if err := json.Unmarshal([]byte(text), &recs); err != nil {
			t.Fatalf("JSON %q: %v", text, err)
		}
	} else {
		recs = parseProfileText(t, out)
	}
	if len(recs) != len(metrics) {
		t.Fatalf("%d metrics printed, want %d", len(recs), len(metrics))
	}
	for i, r := range recs {
		// Printed in bpftool's order: cycles, instructions, ..., cpu_clock.
		if i > 0 && metricRank(r.Metric) < metricRank(recs[i-1].Metric) {
			t.Errorf("%s printed after %s", r.Metric, recs[i-1].Metric)
		}
		if r.RunCnt == 0 || r.RunCnt > uint64(runs) {
			t.Errorf("%s: run_cnt %d, want 1..%d", r.Metric, r.RunCnt, runs)
		}
		if r.Value == 0 {
			t.Errorf("%s: value 0", r.Metric)
		}
		if asJSON && (r.Enabled == 0 || r.Running == 0 || r.Running > r.Enabled) {
			t.Errorf("%s: enabled %d, running %d", r.Metric, r.Enabled, r.Running)
		}
		// Every run was on CPU 0, one after the other, while the child
		// ran: the times counted between entry and exit add up to less
		// than that (a stale or mixed-up entry reading would not).
		if r.Metric == "cpu_clock" && (r.Value > window || r.Enabled > window) {
			t.Errorf("cpu_clock: %d ns counted (enabled %d ns) in runs within %d ns", r.Value, r.Enabled, window)
		}
	}
}

func metricRank(name string) int {
	return strings.Index(" cycles instructions l1d_loads llc_misses itlb_misses dtlb_misses cpu_clock", " "+name)
}

// profileLine is one line of bpftool's plain profile: the value, the
// metric, and maybe a ratio and the share of time counted.
var profileLine = regexp.MustCompile(`^ {0,17}(\d+) (\w+) +(# +\d+\.\d\d [a-zA-Z ]+)?(\(\d+\.\d\d%\))?$`)

// parseProfileText reads the plain output: an empty line, run_cnt, then a
// line per metric.
func parseProfileText(t *testing.T, lines []string) []profileRecord {
	t.Helper()
	if len(lines) < 2 || lines[0] != "" {
		t.Fatalf("plain output %q: want an empty line first", lines)
	}
	m := profileLine.FindStringSubmatch(lines[1])
	if m == nil || m[2] != "run_cnt" || len(lines[1]) != 18+1+20 {
		t.Fatalf("run_cnt line %q", lines[1])
	}
	runCnt := mustUint(t, m[1])
	var recs []profileRecord
	for _, l := range lines[2:] {
		m := profileLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("metric line %q", l)
		}
		recs = append(recs, profileRecord{Metric: m[2], RunCnt: runCnt, Value: mustUint(t, m[1])})
	}
	return recs
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestProgProfileWithoutTrampolines: where the kernel refuses fentry, the
// profiler fails with the loader's one-line message, and leaves nothing.
func TestProgProfileWithoutTrampolines(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.Lacks(t, "trampolines")
	id := progIDArg(t, profTarget(t))
	before := testutil.CountByName(profilerNames...)
	r := bpfkit(t, "prog", "profile", "id", id, "duration", "1", "cpu_clock")
	want := "prog profile: program fentry_XXX (section fentry/i12_prof_target) rejected by the kernel"
	if r.code == 0 || !strings.HasPrefix(r.stderr, "Error: "+want) || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, "trampoline") || r.stdout != "" {
		t.Errorf("exit %d, stderr %q, stdout %q; want one line starting %q", r.code, r.stderr, r.stdout, want)
	}
	testutil.WaitCountsAtMost(t, before, profilerNames...)
}

// TestProgProfileErrors: bad metrics, durations and programs get one-line
// errors before anything is loaded.
func TestProgProfileErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	id := progIDArg(t, profTarget(t))
	noBTF := progIDArg(t, testutil.NewProgram(t, &ebpf.ProgramSpec{Name: "i12_prof_nobtf", Type: ebpf.XDP, License: "GPL", Instructions: testutil.ReturnZero()}))
	before := testutil.CountByName(profilerNames...)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"id", id}, "expected at least one metric"},
		{[]string{"id", id, "bogus"}, "unknown metric bogus"},
		{[]string{"id", id, "cycles", "cycles"}, "duplicated metric: cycles"},
		{[]string{"id", id, "cycles", "instructions", "l1d_loads", "llc_misses", "dtlb_misses"}, "too many (5) metrics"},
		{[]string{"id", id, "duration", "soon", "cycles"}, "can't parse soon as a duration"},
		{[]string{"id", id, "duration", "-1s", "cycles"}, "can't parse -1s as a duration"},
		{[]string{"id", "4294967295", "cycles"}, "no program with id 4294967295"},
		{[]string{"id", noBTF, "cpu_clock"}, "the program doesn't have valid BTF"},
	} {
		r := bpfkit(t, append([]string{"prog", "profile"}, c.args...)...)
		if r.code == 0 || !strings.HasPrefix(r.stderr, "Error: prog profile: ") || !strings.Contains(r.stderr, c.want) ||
			strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want one line with %q", c.args, r.code, r.stderr, r.stdout, c.want)
		}
	}
	testutil.WaitCountsAtMost(t, before, profilerNames...)
}
