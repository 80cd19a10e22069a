package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/stats"
)

// started is the built binary running as a process of its own, its
// stdout and stderr read line by line as it writes them.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr chan string
	mu             sync.Mutex
	errText        strings.Builder
	waited         chan error
}

// startProcess runs the built binary with args, env added to the test's
// environment. The process is killed if the test ends before it does.
func startProcess(t *testing.T, env []string, args ...string) *started {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &started{cmd: cmd, stdout: make(chan string, 1<<16), stderr: make(chan string, 1<<16), waited: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go s.read(&readers, stdout, s.stdout, false)
	go s.read(&readers, stderr, s.stderr, true)
	go func() {
		readers.Wait()
		s.waited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		err := <-s.waited
		s.waited <- err
	})
	return s
}

// read sends each line of r to lines, and closes lines at the end.
func (s *started) read(wg *sync.WaitGroup, r io.Reader, lines chan<- string, keep bool) {
	defer wg.Done()
	defer close(lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if keep {
			s.mu.Lock()
			s.errText.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
		select {
		case lines <- sc.Text():
		default: // nobody reads them: dropped
		}
	}
}

// errors returns what the process wrote to stderr so far.
func (s *started) errors() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errText.String()
}

// line returns the next line of stdout, failing the test at its end.
func (s *started) line(t *testing.T) string {
	t.Helper()
	return s.next(t, s.stdout, "stdout")
}

// errLine returns the next line of stderr, failing the test at its end.
func (s *started) errLine(t *testing.T) string {
	t.Helper()
	return s.next(t, s.stderr, "stderr")
}

func (s *started) next(t *testing.T, lines <-chan string, what string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("%s: %s ended: %s", strings.Join(s.cmd.Args, " "), what, s.errors())
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: nothing on %s for 30s", strings.Join(s.cmd.Args, " "), what)
	}
	return ""
}

// wait waits for the process to exit and returns its exit code.
func (s *started) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.waited:
		s.waited <- err
		if err != nil {
			if exit, ok := err.(*exec.ExitError); ok {
				return exit.ExitCode()
			}
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit", strings.Join(s.cmd.Args, " "))
	}
	return -1
}

// topDoc is one `prog top -j` document; every field is a pointer, so
// that a missing one shows.
type topDoc struct {
	Time       *string    `json:"time"`
	IntervalNs *int64     `json:"interval_ns"`
	Programs   []topEntry `json:"programs"`
}

type topEntry struct {
	ID              *uint32            `json:"id"`
	Type            *string            `json:"type"`
	Name            *string            `json:"name"`
	Tag             *string            `json:"tag"`
	RunCnt          *uint64            `json:"run_cnt"`
	RunTimeNs       *uint64            `json:"run_time_ns"`
	EventsPerSecond *float64           `json:"events_per_second"`
	AvgRunTimeNs    *uint64            `json:"avg_run_time_ns"`
	CPUPercent      *float64           `json:"cpu_percent"`
	PIDs            *[]json.RawMessage `json:"pids"`
}

// The fields the issue asks of each document and each program.
var (
	topDocFields  = []string{"time", "interval_ns", "programs"}
	topProgFields = []string{"id", "type", "name", "tag", "run_cnt", "run_time_ns", "events_per_second", "avg_run_time_ns", "cpu_percent", "pids"}
)

// parseTopDoc parses one line as a document and checks that it has every
// field and no other, and that each program has every field.
func parseTopDoc(t *testing.T, line string) *topDoc {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &keys); err != nil {
		t.Fatalf("not one JSON document: %v: %q", err, line)
	}
	checkKeys(t, "document", keys, topDocFields)
	var progs []map[string]json.RawMessage
	if err := json.Unmarshal(keys["programs"], &progs); err != nil {
		t.Fatalf("programs: %v", err)
	}
	for _, p := range progs {
		checkKeys(t, "program", p, topProgFields)
	}
	var doc topDoc
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339, *doc.Time); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", *doc.Time, err)
	}
	if *doc.IntervalNs <= 0 {
		t.Errorf("interval_ns %d", *doc.IntervalNs)
	}
	return &doc
}

func checkKeys(t *testing.T, what string, got map[string]json.RawMessage, want []string) {
	t.Helper()
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(keys, want) {
		t.Fatalf("%s has fields %v, want %v", what, keys, want)
	}
}

// entry returns the program id of a document, nil when it is not there.
func (d *topDoc) entry(id uint32) *topEntry {
	for i := range d.Programs {
		if *d.Programs[i].ID == id {
			return &d.Programs[i]
		}
	}
	return nil
}

// TestTopJSON runs `bpfkit -j prog top` as a process: a program on a
// tracepoint the test triggers 200 times in one interval and 800 in the
// next counts those runs and more events per second; a program loaded
// mid-run appears and goes when it is unloaded; every document parses and
// carries every field; SIGTERM ends it with exit 0.
func TestTopJSON(t *testing.T) {
	testutil.RequirePrivileged(t)
	tp := testutil.TracepointProgram(t, "i11_cli_top")
	tpID := mustID(t, objects.Programs, tp)
	s := startProcess(t, nil, "-j", "prog", "top", "name", "i11_cli_top", "interval", "300ms")
	doc := parseTopDoc(t, s.line(t))
	if len(doc.Programs) != 1 || doc.entry(tpID) == nil {
		t.Fatalf("first document: %d programs, want %d alone", len(doc.Programs), tpID)
	}
	prev := *doc.entry(tpID)
	var rates []float64
	for _, calls := range []uint64{200, 800} {
		testutil.Trigger(int(calls))
		doc := parseTopDoc(t, s.line(t))
		e := doc.entry(tpID)
		if e == nil {
			t.Fatalf("program %d is gone", tpID)
		}
		runs := *e.RunCnt - *prev.RunCnt
		if runs < calls || *e.RunTimeNs <= *prev.RunTimeNs || *e.AvgRunTimeNs == 0 || *e.CPUPercent <= 0 {
			t.Errorf("%d calls: %d runs, %d ns more run time, avg %d ns, %.4f%% CPU",
				calls, runs, *e.RunTimeNs-*prev.RunTimeNs, *e.AvgRunTimeNs, *e.CPUPercent)
		}
		// events/s is the runs of the interval over its length.
		if got := *e.EventsPerSecond * float64(*doc.IntervalNs) / 1e9; got < float64(runs)-0.5 || got > float64(runs)+0.5 {
			t.Errorf("%.2f events/s over %d ns make %.2f runs, want %d", *e.EventsPerSecond, *doc.IntervalNs, got, runs)
		}
		rates = append(rates, *e.EventsPerSecond)
		prev = *e
	}
	if rates[1] <= rates[0] {
		t.Errorf("events/s %.1f then %.1f: want a rise with four times the calls", rates[0], rates[1])
	}

	// A program of the same name loaded mid-run appears, and goes when
	// it is unloaded.
	late, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "i11_cli_top", Type: ebpf.SocketFilter, License: "GPL", Instructions: testutil.ReturnZero()})
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	lateID := mustID(t, objects.Programs, late)
	waitDoc(t, s, "the program loaded mid-run", func(d *topDoc) bool {
		return d.entry(lateID) != nil && d.entry(tpID) != nil && len(d.Programs) == 2
	})
	late.Close()
	waitDoc(t, s, "the program unloaded mid-run gone", func(d *topDoc) bool {
		return d.entry(lateID) == nil && d.entry(tpID) != nil && len(d.Programs) == 1
	})

	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t); code != 0 {
		t.Errorf("after SIGTERM: exit %d: %s", code, s.errors())
	}
}

// waitDoc reads documents until one satisfies ok; the kernel frees an
// unloaded program after an RCU grace period, so a few may pass first.
func waitDoc(t *testing.T, s *started, what string, ok func(*topDoc) bool) {
	t.Helper()
	for range 20 {
		if ok(parseTopDoc(t, s.line(t))) {
			return
		}
	}
	t.Fatalf("20 documents without %s", what)
}

// TestTopText: piped without -j, each interval is a title line and a
// table, and count ends it.
func TestTopText(t *testing.T) {
	testutil.RequirePrivileged(t)
	p := testutil.NewProgram(t, &ebpf.ProgramSpec{Name: "i11_cli_text", Type: ebpf.SocketFilter, License: "GPL", Instructions: testutil.ReturnZero()})
	id := mustID(t, objects.Programs, p)
	out := mustBpfkit(t, "prog", "top", "name", "i11_cli_text", "interval", "100ms", "count", "2", "sort", "runs")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// Two intervals of three lines, a blank line after each.
	if len(lines) != 8 {
		t.Fatalf("%d lines, want 8:\n%s", len(lines), out)
	}
	for i := 0; i < 8; i += 4 {
		if !strings.Contains(lines[i], " 1 programs ") {
			t.Errorf("title %q", lines[i])
		}
		if f := strings.Fields(lines[i+1]); len(f) < 9 || f[0] != "ID" || !slices.Contains(f, "RUNS") {
			t.Errorf("header %q", lines[i+1])
		}
		if f := strings.Fields(lines[i+2]); len(f) != 9 || f[0] != itoa(id) || f[1] != "socket_filter" || f[2] != "i11_cli_text" || f[7] != "0" {
			t.Errorf("row %q", lines[i+2])
		}
	}
}

// TestTopErrors: bad arguments fail with one line, before statistics are
// touched.
func TestTopErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	before := readSysctl(t)
	for _, args := range [][]string{
		{"prog", "top", "interval", "1ms"},
		{"prog", "top", "interval", "soon"},
		{"prog", "top", "interval"},
		{"prog", "top", "count", "0"},
		{"prog", "top", "sort", "colour"},
		{"prog", "top", "name", "i11_no_such_prog"},
		{"prog", "top", "bogus"},
		{"metrics", "serve", "listen", "nowhere"},
		{"metrics", "serve", "listen", "127.0.0.1:99999"},
		{"metrics", "serve", "extra"},
		{"metrics", "show", "extra"},
	} {
		r := bpfkit(t, args...)
		if r.code == 0 || strings.Count(strings.TrimSuffix(r.stderr, "\n"), "\n") != 0 || r.stderr == "" || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	// With -j the error is a JSON object on stdout, as bpftool's.
	if r := bpfkit(t, "-j", "metrics", "show"); r.code == 0 || !strings.Contains(r.stdout, `"error":"metrics show: Prometheus's text format is the only output`) {
		t.Errorf("-j metrics show: exit %d, %q", r.code, r.stdout)
	}
	t.Setenv("BPFKIT_STATS", "sometimes")
	if r := bpfkit(t, "prog", "top", "count", "1"); r.code == 0 || !strings.Contains(r.stderr, "BPFKIT_STATS") {
		t.Errorf("BPFKIT_STATS=sometimes: exit %d, %q", r.code, r.stderr)
	}
	if after := readSysctl(t); after != before {
		t.Errorf("kernel.bpf_stats_enabled was %q, is %q", before, after)
	}
}

func readSysctl(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(stats.SysctlPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// holdsStats reports whether process pid holds a BPF_ENABLE_STATS
// descriptor.
func holdsStats(t *testing.T, pid int) bool {
	t.Helper()
	owners, err := objects.ScanOwners()
	if err != nil {
		t.Fatal(err)
	}
	holders, err := objects.StatsHolders()
	if err != nil {
		t.Fatal(err)
	}
	isPID := func(o objects.Owner) bool { return o.PID == pid }
	full, quick := slices.ContainsFunc(owners.Stats, isPID), slices.ContainsFunc(holders, isPID)
	if full != quick {
		t.Errorf("process %d holds statistics: %v by ScanOwners, %v by StatsHolders", pid, full, quick)
	}
	return full
}

// TestStatsSwitch runs prog top and metrics serve as processes, with each
// way of switching statistics on, and ends them each way they end: after
// count intervals, Ctrl-C (SIGINT) and SIGTERM. While they run the
// statistics are on (the sysctl reads 1, or the process holds a
// BPF_ENABLE_STATS descriptor); after, the sysctl reads what it read
// before.
func TestStatsSwitch(t *testing.T) {
	testutil.RequirePrivileged(t)
	type command struct {
		name string
		args []string
		// ready reads what the command prints once statistics are on.
		ready func(t *testing.T, s *started)
	}
	topReady := func(t *testing.T, s *started) { parseTopDoc(t, s.line(t)) }
	commands := []command{
		{"top-count", []string{"-j", "prog", "top", "interval", "100ms", "count", "3"}, topReady},
		{"top", []string{"-j", "prog", "top", "interval", "100ms"}, topReady},
		{"serve", []string{"metrics", "serve", "listen", "127.0.0.1:0"}, nil},
	}
	for _, method := range []string{"fd", "sysctl"} {
		for _, c := range commands {
			ends := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}
			if c.name == "top-count" {
				ends = []syscall.Signal{0}
			}
			for _, sig := range ends {
				end := "count"
				if sig != 0 {
					end = sig.String()
				}
				t.Run(method+"/"+c.name+"/"+end, func(t *testing.T) {
					before := readSysctl(t)
					s := startProcess(t, []string{"BPFKIT_STATS=" + method}, c.args...)
					if c.ready != nil {
						c.ready(t, s)
					} else {
						servingAddr(t, s)
					}
					switch method {
					case "sysctl":
						if got := readSysctl(t); got != "1\n" {
							t.Errorf("while it runs, the sysctl reads %q", got)
						}
					case "fd":
						if !holdsStats(t, s.cmd.Process.Pid) {
							t.Errorf("while it runs, process %d holds no BPF_ENABLE_STATS descriptor", s.cmd.Process.Pid)
						}
					}
					if sig != 0 {
						s.cmd.Process.Signal(sig)
					}
					if code := s.wait(t); code != 0 {
						t.Errorf("exit %d: %s", code, s.errors())
					}
					if after := readSysctl(t); after != before {
						t.Errorf("the sysctl read %q before, %q after", before, after)
					}
				})
			}
		}
	}
}
