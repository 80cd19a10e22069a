package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// The learner's examples (testdata/learner, docs/learn.md) run as the
// tutorials' readers run them, through `bpfkit run -j`: each test causes
// events of its own and checks the decoded fields, and that bpfkit's own
// events are left out unless --self.

// runLine is one JSON line of `bpfkit -j run`.
type runLine struct {
	Sources []struct {
		Map        string `json:"map"`
		RecordType string `json:"record_type"`
		From       string `json:"from"`
		Hex        string `json:"hex"`
	} `json:"sources"`
	SelfPID   int             `json:"self_pid"`
	Map       string          `json:"map"`
	Formatted json.RawMessage `json:"formatted"`
	Trace     *struct {
		Task    string `json:"task"`
		PID     int    `json:"pid"`
		Message string `json:"message"`
	} `json:"trace"`
	Summary *struct {
		Sources []struct {
			Records, Own uint64
		} `json:"sources"`
		OwnTraces uint64 `json:"own_trace_lines"`
	} `json:"summary"`
}

// learnerRun runs `bpfkit -j run --duration D ARGS... OBJ` in-process,
// while busy runs in this (bpfkit's) process until the run ends, and
// returns its lines.
func learnerRun(t *testing.T, obj string, busy func(), args ...string) []runLine {
	t.Helper()
	var stop atomic.Bool
	done := make(chan struct{})
	if busy != nil {
		go func() {
			defer close(done)
			for !stop.Load() {
				busy()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	} else {
		close(done)
	}
	argv := append(append([]string{"-j", "run", "--duration", "3s"}, args...), testutil.Object(t, "learner/"+obj))
	r := bpfkit(t, argv...)
	stop.Store(true)
	<-done
	if r.code != 0 {
		t.Fatalf("bpfkit %v: exit %d: %s%s", argv, r.code, r.stderr, r.stdout)
	}
	var lines []runLine
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var rl runLine
		if err := json.Unmarshal([]byte(l), &rl); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		lines = append(lines, rl)
	}
	if len(lines) < 2 || lines[len(lines)-1].Summary == nil {
		t.Fatalf("no start and summary lines:\n%s", r.stdout)
	}
	return lines
}

// records decodes the formatted records of a run.
func records[T any](t *testing.T, lines []runLine) []T {
	t.Helper()
	var out []T
	for _, l := range lines {
		if l.Formatted == nil {
			continue
		}
		var v T
		if err := json.Unmarshal(l.Formatted, &v); err != nil {
			t.Fatalf("formatted %s: %v", l.Formatted, err)
		}
		out = append(out, v)
	}
	return out
}

// startLater starts a shell command that waits a second (the run attaches
// meanwhile) and returns its pid, which exec keeps.
func startLater(t *testing.T, script string) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep 1; "+script)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// checkDecoded checks the start line says where the record type came from.
func checkDecoded(t *testing.T, lines []runLine, recordType string, self bool) {
	t.Helper()
	src := lines[0].Sources
	if len(src) != 1 || src[0].RecordType != recordType || src[0].From != "DWARF" || src[0].Hex != "" {
		t.Errorf("sources %+v, want %s from DWARF", src, recordType)
	}
	if want := os.Getpid(); lines[0].SelfPID != want && !self || self && lines[0].SelfPID != 0 {
		t.Errorf("self_pid %d with --self %v (bpfkit is %d)", lines[0].SelfPID, self, want)
	}
}

func TestLearnerOpensnoop(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	theirs, mine := filepath.Join(dir, "i13-theirs"), filepath.Join(dir, "i13-mine")
	for _, f := range []string{theirs, mine} {
		if err := os.WriteFile(f, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type event struct {
		PID   int    `json:"pid"`
		Ret   int    `json:"ret"`
		Comm  string `json:"comm"`
		Fname string `json:"fname"`
	}
	openMine := func() {
		if f, err := os.Open(mine); err == nil {
			f.Close()
		}
	}
	for _, self := range []bool{false, true} {
		var args []string
		if self {
			args = []string{"--self"}
		}
		child := startLater(t, "exec cat "+theirs)
		lines := learnerRun(t, "opensnoop", openMine, args...)
		checkDecoded(t, lines, "struct event", self)
		var sawTheirs, sawMine bool
		for _, e := range records[event](t, lines) {
			switch {
			case e.Fname == theirs:
				sawTheirs = true
				if e.PID != child || e.Comm != "cat" || e.Ret < 0 {
					t.Errorf("cat's open: %+v, want pid %d, comm cat", e, child)
				}
			case e.PID == os.Getpid():
				sawMine = sawMine || e.Fname == mine
				if !self {
					t.Errorf("bpfkit's own open came through: %+v", e)
				}
			}
		}
		if !sawTheirs {
			t.Errorf("self=%v: no record of cat opening %s", self, theirs)
		}
		own := lines[len(lines)-1].Summary.Sources[0].Own
		if self != sawMine || (self == (own > 0)) {
			t.Errorf("self=%v: saw bpfkit's own opens %v, %d left out", self, sawMine, own)
		}
	}
}

func TestLearnerBootstrap(t *testing.T) {
	testutil.RequirePrivileged(t)
	type event struct {
		PID       int    `json:"pid"`
		PPID      int    `json:"ppid"`
		ExitCode  int    `json:"exit_code"`
		Comm      string `json:"comm"`
		Filename  string `json:"filename"`
		ExitEvent bool   `json:"exit_event"`
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	child := startLater(t, "exec "+truePath)
	lines := learnerRun(t, "bootstrap", nil)
	checkDecoded(t, lines, "struct event", false)
	var execed, exited bool
	for _, e := range records[event](t, lines) {
		if e.PID != child {
			continue
		}
		if e.Comm != "true" || e.PPID != os.Getpid() {
			t.Errorf("record of %d: %+v, want comm true, parent %d", child, e, os.Getpid())
		}
		if e.ExitEvent {
			exited = true
		} else {
			execed = true
			if e.Filename != truePath {
				t.Errorf("exec of %s: %+v", truePath, e)
			}
		}
	}
	if !execed || !exited {
		t.Errorf("exec seen %v, exit seen %v of pid %d", execed, exited, child)
	}
}

func TestLearnerUretprobe(t *testing.T) {
	testutil.RequirePrivileged(t)
	// The section names ./readline: bpfkit runs where the binary is.
	t.Chdir(testutil.Testdata(t, "learner"))
	in := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(in, []byte("i13 hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	child := startLater(t, "exec ./readline < "+in+" > /dev/null")
	lines := learnerRun(t, "uretprobe", nil)
	checkDecoded(t, lines, "struct event", false)
	type event struct {
		PID  int   `json:"pid"`
		Line []any `json:"line"`
	}
	var seen bool
	for _, e := range records[event](t, lines) {
		var b []byte
		for _, c := range e.Line {
			if n, ok := c.(float64); ok && n != 0 {
				b = append(b, byte(n))
			}
		}
		if string(b) == "i13 hello" {
			seen = true
			if e.PID != child {
				t.Errorf("line read by pid %d, want %d", e.PID, child)
			}
		}
	}
	if !seen {
		t.Errorf("no record of readline returning \"i13 hello\"")
	}
}

func TestLearnerMinimal(t *testing.T) {
	testutil.RequirePrivileged(t)
	child := startLater(t, "for i in 1 2 3; do echo i13 >/dev/null; done")
	lines := learnerRun(t, "minimal", nil, "--trace", "--set", fmt.Sprintf("my_pid=%d", child))
	n := 0
	for _, l := range lines {
		if l.Trace == nil || l.Trace.Message != fmt.Sprintf("BPF triggered from PID %d.", child) {
			continue
		}
		n++
		// "<...>" is the kernel's task name for a pid whose comm it no
		// longer has cached (sh may be gone when trace_pipe is read).
		if l.Trace.PID != child || (l.Trace.Task != "sh" && l.Trace.Task != "<...>") {
			t.Errorf("trace line %+v, want sh-%d", l.Trace, child)
		}
	}
	if n != 3 {
		t.Errorf("%d trace lines of sh's 3 writes", n)
	}
}

// TestLearnerMinimalSelf: with my_pid set to bpfkit's own process, its own
// writes are left out of the trace lines, unless --self.
func TestLearnerMinimalSelf(t *testing.T) {
	testutil.RequirePrivileged(t)
	writeMine := func() { os.WriteFile(os.DevNull, []byte("i13"), 0) }
	for _, self := range []bool{false, true} {
		args := []string{"--trace", "--set", fmt.Sprintf("my_pid=%d", os.Getpid())}
		if self {
			args = append(args, "--self")
		}
		lines := learnerRun(t, "minimal", writeMine, args...)
		mine := 0
		for _, l := range lines {
			if l.Trace != nil && l.Trace.Message == fmt.Sprintf("BPF triggered from PID %d.", os.Getpid()) {
				mine++
			}
		}
		own := lines[len(lines)-1].Summary.OwnTraces
		if self != (mine > 0) || self == (own > 0) {
			t.Errorf("self=%v: %d of bpfkit's own trace lines printed, %d left out", self, mine, own)
		}
	}
}

// TestLearnerKprobe runs the kprobe example. This host's kernel has no
// kprobes: the test runs in the qemu guest of make vmtest (Debian's 6.1).
func TestLearnerKprobe(t *testing.T) {
	testutil.Requires(t, "kprobes", "kretprobes")
	file := filepath.Join(t.TempDir(), "i13-unlink-me")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	child := startLater(t, "exec rm "+file)
	lines := learnerRun(t, "kprobe", nil, "--trace")
	var entry, exit bool
	for _, l := range lines {
		if l.Trace == nil || l.Trace.PID != child {
			continue
		}
		entry = entry || l.Trace.Message == fmt.Sprintf("KPROBE ENTRY pid = %d, filename = %s", child, file)
		exit = exit || l.Trace.Message == fmt.Sprintf("KPROBE EXIT: pid = %d, ret = 0", child)
	}
	if !entry || !exit {
		t.Errorf("entry line %v, exit line %v for rm (pid %d)", entry, exit, child)
	}
}

// TestRunNothingAttached: the tutorial's uretprobe section names no
// binary; run says why at once and fails instead of waiting.
func TestRunNothingAttached(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := bpfkit(t, "run", testutil.Object(t, "loader/no_binary"))
	want := "Error: run: no program could be attached: uretprobe_bash_readline (uretprobe/bash_readline): section uretprobe/bash_readline: want uretprobe/BINARY:SYMBOL[+OFFSET]"
	if r.code == 0 || !strings.HasPrefix(r.stderr, want) || r.stdout != "" {
		t.Errorf("run no_binary: %+v\nwant %s", r, want)
	}
	r = bpfkit(t, "run", "--set", "folded_limit=1", testutil.Object(t, "loader/consts"))
	if r.code == 0 || !strings.Contains(r.stderr, "folded_limit is const but not volatile") {
		t.Errorf("run --set folded_limit: %+v", r)
	}
}
