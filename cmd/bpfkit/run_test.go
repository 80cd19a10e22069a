package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

var (
	linkRowRe    = regexp.MustCompile(`(?m)^trace_openat  tracepoint syscalls/sys_enter_openat  (\d+)$`)
	mapIDRe      = regexp.MustCompile(`\(map id (\d+)\)`)
	summaryRowRe = regexp.MustCompile(`(?m)^trace_openat  (\d+)  tracepoint`)
)

// runIDs reads the link, map and program IDs a plain `run` of the
// tracepoint object printed.
func runIDs(out string) map[string][]uint32 {
	ids := map[string][]uint32{}
	for kind, re := range map[string]*regexp.Regexp{"link": linkRowRe, "map": mapIDRe, "prog": summaryRowRe} {
		if m := re.FindStringSubmatch(out); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 32)
			ids[kind] = append(ids[kind], uint32(n))
		}
	}
	return ids
}

// tracepointNames are the kernel names of testdata/loader/tracepoint.bpf.o's
// program and maps.
var tracepointNames = []string{"trace_openat", "openat_events", "openat_calls"}

// startOpener starts a process that opens /etc/hostname every 50ms until the
// test ends, and returns its PID.
func startOpener(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("bash", "-c", "while :; do read -r x < /etc/hostname; sleep 0.05; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// startBpfkit starts the bpfkit binary and returns it with a channel of its
// stdout lines, closed at EOF.
func startBpfkit(t *testing.T, args ...string) (*exec.Cmd, <-chan string, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(strings.Builder)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines, stderr
}

// waitLine reads lines until match returns true; it fails after 15s.
func waitLine(t *testing.T, lines <-chan string, match func(string) bool) []string {
	t.Helper()
	var seen []string
	timeout := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended; it was:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if match(l) {
				return seen
			}
		case <-timeout:
			t.Fatalf("timed out; output:\n%s", strings.Join(seen, "\n"))
		}
	}
}

// TestRunInterrupt: `bpfkit run --trace` on the tracepoint object prints
// what it attached, events and bpf_printk lines of a process opening
// files; on SIGINT it prints the summary, exits 0, and the kernel's
// program, map and link counts return to the baseline.
func TestRunInterrupt(t *testing.T) {
	testutil.RequirePrivileged(t)
	pid := startOpener(t)
	cmd, sc, stderr := startBpfkit(t, "run", "--trace", "--set", fmt.Sprintf("targ_pid=%d", pid), testutil.Object(t, "loader/tracepoint"))
	head := waitLine(t, sc, func(l string) bool { return strings.HasPrefix(l, "reading ") })
	if !strings.Contains(strings.Join(head, "\n"), "trace_openat  tracepoint syscalls/sys_enter_openat") {
		t.Errorf("attach table missing:\n%s", strings.Join(head, "\n"))
	}
	if got := testutil.CountByName(tracepointNames...); got.Progs < 1 || got.Maps < 2 || got.Links < 1 {
		t.Errorf("while running, programs/maps/links by name: %v", got)
	}
	var sawEvent, sawTrace bool
	waitLine(t, sc, func(l string) bool {
		sawEvent = sawEvent || strings.HasSuffix(l, fmt.Sprintf(` openat_events: {"pid":%d,"kind":1,"comm":"bash","data":"/etc/hostname"}`, pid))
		sawTrace = sawTrace || strings.Contains(l, fmt.Sprintf("bpf_trace_printk: bpfkit-tp openat pid=%d", pid))
		return sawEvent && sawTrace
	})
	cmd.Process.Signal(os.Interrupt)
	rest := waitLine(t, sc, func(l string) bool { return l == "detached and unloaded everything" })
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr)
	}
	summary := strings.Join(rest, "\n")
	if !strings.Contains(summary, "PROGRAM       ID") || !strings.Contains(summary, "trace_openat") {
		t.Errorf("summary:\n%s", summary)
	}
	ids := runIDs(strings.Join(head, "\n") + "\n" + summary)
	if len(ids["link"]) != 1 || len(ids["map"]) != 1 || len(ids["prog"]) != 1 {
		t.Fatalf("IDs in the output: %v", ids)
	}
	testutil.AssertGone(t, ids)
}

// TestRunPIDFilterJSON: with --set targ_pid every event comes from that
// process; -j prints JSON lines.
func TestRunPIDFilterJSON(t *testing.T) {
	testutil.RequirePrivileged(t)
	pid := startOpener(t)
	startOpener(t) // another process whose opens must not show
	cmd, sc, stderr := startBpfkit(t, "-j", "run", "--set", fmt.Sprintf("targ_pid=%d", pid), testutil.Object(t, "loader/tracepoint"))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stderr: %s", stderr)
		}
	})
	var start struct {
		Attached []struct {
			Program string `json:"program"`
			Hook    string `json:"hook"`
			LinkID  uint32 `json:"link_id"`
		} `json:"attached"`
		Sources []struct {
			ID uint32 `json:"id"`
		} `json:"sources"`
	}
	n := 0
	waitLine(t, sc, func(l string) bool {
		if n == 0 {
			if err := json.Unmarshal([]byte(l), &start); err != nil {
				t.Fatalf("first line %q: %v", l, err)
			}
			n++
			return false
		}
		var ev struct {
			Map       string   `json:"map"`
			Type      string   `json:"type"`
			Data      []string `json:"data"`
			Formatted struct {
				PID  int    `json:"pid"`
				Comm string `json:"comm"`
			} `json:"formatted"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Map != "openat_events" || len(ev.Data) != 56 || ev.Type != "struct event" {
			t.Fatalf("event line %q: %v", l, err)
		}
		if ev.Formatted.PID != pid || ev.Formatted.Comm != "bash" {
			t.Errorf("formatted %+v, want pid %d comm bash", ev.Formatted, pid)
		}
		var got uint32
		for i := 3; i >= 0; i-- {
			b, _ := strconv.ParseUint(ev.Data[i], 0, 8)
			got = got<<8 | uint32(b)
		}
		if got != uint32(pid) {
			t.Errorf("event of pid %d got through targ_pid=%d", got, pid)
		}
		n++
		return n > 5
	})
	if len(start.Attached) != 1 || start.Attached[0].LinkID == 0 {
		t.Errorf("start line %+v", start)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	last := waitLine(t, sc, func(l string) bool { return strings.HasPrefix(l, `{"summary":`) })
	var sum struct {
		Summary struct {
			Programs []struct {
				ID uint32 `json:"id"`
			} `json:"programs"`
			Sources []struct {
				Records uint64 `json:"records"`
			} `json:"sources"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(last[len(last)-1]), &sum); err != nil || len(sum.Summary.Sources) != 1 || sum.Summary.Sources[0].Records < 5 || len(sum.Summary.Programs) != 1 {
		t.Fatalf("summary %s: %v", last[len(last)-1], err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr)
	}
	testutil.AssertGone(t, map[string][]uint32{
		"prog": {sum.Summary.Programs[0].ID},
		"map":  {start.Sources[0].ID},
		"link": {start.Attached[0].LinkID},
	})
}

// TestRunEnds: --duration and a closed stdout end a run, and clean up.
func TestRunEnds(t *testing.T) {
	testutil.RequirePrivileged(t)

	out, err := exec.Command(binPath, "run", "--duration", "500ms", testutil.Object(t, "loader/tracepoint")).Output()
	if err != nil {
		t.Fatalf("--duration: %v", err)
	}
	if !strings.HasSuffix(string(out), "detached and unloaded everything\n") {
		t.Errorf("--duration output ends with %q", out[max(0, len(out)-200):])
	}
	ids := runIDs(string(out))
	if len(ids) != 3 {
		t.Errorf("IDs in the output: %v", ids)
	}
	testutil.AssertGone(t, ids)

	// Closed stdout while no event comes (a filter nobody passes), and
	// while events stream.
	for _, args := range [][]string{
		{"run", "--set", "targ_pid=1", testutil.Object(t, "loader/tracepoint")},
		{"run", testutil.Object(t, "loader/tracepoint")},
	} {
		cmd := exec.Command(binPath, args...)
		r, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(r)
		var head strings.Builder
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			head.WriteString(l)
			if strings.HasPrefix(l, "reading ") {
				break
			}
		}
		if len(args) == 2 {
			// Some events first, from a process opening files.
			startOpener(t)
			if _, err := br.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v kept going after its stdout closed", args)
		}
		ids := runIDs(head.String())
		if len(ids["link"]) != 1 || len(ids["map"]) != 1 {
			t.Fatalf("IDs in %q: %v", head.String(), ids)
		}
		testutil.AssertGone(t, ids)
	}
}

// TestRunErrors: a verifier rejection prints the log tail and the program,
// a missing --iface and a bad --set are one clear line, and nothing stays.
func TestRunErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := bpfkit(t, "run", testutil.Object(t, "loader/bad_verifier"))
	if r.code != 1 || !strings.Contains(r.stderr, "Verifier log of bad_no_null_check:") ||
		!strings.Contains(r.stderr, "Error: run: program bad_no_null_check (section tracepoint/syscalls/sys_enter_openat) rejected by the verifier: permission denied: R0 invalid mem access 'map_value_or_null'") {
		t.Errorf("verifier: exit %d\n%s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", testutil.Object(t, "loader/net")}, "Error: run: program xdp_pass_all: section xdp needs a network interface (--iface)\n"},
		{[]string{"run", "--set", "targ_pid=x", testutil.Object(t, "loader/tracepoint")}, "Error: run: set targ_pid: \"x\" is not a 32-bit unsigned integer (0 to 4294967295)\n"},
		{[]string{"run", "--set", "nope=1", testutil.Object(t, "loader/tracepoint")}, "Error: run: set nope: no such global variable (globals: tag, targ_pid, unused_event)\n"},
		{[]string{"run", "--event-type", "nosuch", testutil.Object(t, "loader/tracepoint")}, "Error: run: --event-type: type nosuch: not in the object's BTF or DWARF, and not a fixed-size integer such as u32 (structs: event, trace_event_raw_sys_enter)\n"},
		{[]string{"run", testutil.Object(t, "loader/noprog")}, "contains no BPF program"},
		{[]string{"run", "--event-type", "nomap=event", testutil.Object(t, "loader/tracepoint")}, "Error: run: --event-type nomap=event: no ring buffer or perf event array nomap in the object\n"},
		{[]string{"run", testutil.Object(t, "loader/missing_target")}, "Error: run: attach missing_tracepoint: no such attach point: tracepoint bpfkit/no_such_event ("},
	} {
		r := bpfkit(t, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args[1:], r.code, r.stderr, tc.want)
		}
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{}, "bad_no_null_check", "bad_counts", "xdp_pass_all", "tc_ingress_pass")
}
