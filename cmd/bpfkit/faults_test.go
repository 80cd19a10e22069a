package main

// Faults (issue 17): signals sent to the built binary while it creates
// kernel state, and what each one leaves behind.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// The slow object's names: three programs the verifier takes a while
// over and a map pinned by name at slowPin before they are verified.
var slowNames = []string{"i17_slow_a", "i17_slow_b", "i17_slow_c", "i17_slow_pin"}

const slowPin = "/sys/fs/bpf/i17_slow_pin"

// i17Tree lists everything under /sys/fs/bpf whose top-level name starts
// with i17_: the part of the bpffs tree these tests may change (others
// pin elsewhere at the same time).
func i17Tree(t *testing.T) []string {
	t.Helper()
	var out []string
	tops, _ := filepath.Glob("/sys/fs/bpf/i17_*")
	for _, top := range tops {
		filepath.Walk(top, func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				out = append(out, p)
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

// i17Dir is a pin path under /sys/fs/bpf/i17_<name> that does not exist
// yet, removed with everything under it when the test ends.
func i17Dir(t *testing.T, name string) string {
	t.Helper()
	testutil.RequirePrivileged(t)
	p := "/sys/fs/bpf/i17_" + name
	os.RemoveAll(p)
	t.Cleanup(func() { os.RemoveAll(p) })
	return p
}

// waitFor polls until cond holds, for at most a minute (the verifier is
// slow on a busy machine), and reports whether it did.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// signalPoint is a moment at which a test sends a signal: when ready
// reports true (or at once when ready is nil).
type signalPoint struct {
	name  string
	ready func() bool
}

// exitOf says how a finished bpfkit ended: its exit status, or the signal
// that killed it.
func exitOf(err error) (code int, killedBy syscall.Signal) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, ws.Signal()
		}
		return ee.ExitCode(), 0
	}
	return 0, 0
}

// signalTrial starts bpfkit with args, sends sig when the point is
// reached and returns how it ended and what it printed on stderr.
func signalTrial(t *testing.T, sig syscall.Signal, at signalPoint, args ...string) (code int, killedBy syscall.Signal, stderr string) {
	t.Helper()
	return signalTrialOf(t, sig, at, binPath, args...)
}

// signalTrialOf is signalTrial of the program at path (nsenter, which
// becomes bpfkit, for a trial in a network namespace).
func signalTrialOf(t *testing.T, sig syscall.Signal, at signalPoint, path string, args ...string) (code int, killedBy syscall.Signal, stderr string) {
	t.Helper()
	cmd := exec.Command(path, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.Stdout = &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if at.ready != nil && !waitFor(at.ready) {
		cmd.Process.Kill()
		<-done
		t.Fatalf("bpfkit %s: never reached %s", strings.Join(args, " "), at.name)
	}
	cmd.Process.Signal(sig)
	select {
	case err := <-done:
		code, killedBy = exitOf(err)
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("bpfkit %s: still running two minutes after %s", strings.Join(args, " "), sig)
	}
	return code, killedBy, errb.String()
}

// checkNothingLeft fails unless no object named names is in the kernel
// and the i17_ part of bpffs is as before.
func checkNothingLeft(t *testing.T, what string, before []string, names ...string) {
	t.Helper()
	testutil.WaitCountsAtMost(t, testutil.Counts{}, names...)
	if after := i17Tree(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("%s: bpffs under /sys/fs/bpf/i17_* was\n%v\nand is now\n%v", what, before, after)
	}
}

// TestSignalsDuringLoadLeaveNothing sends SIGINT, SIGTERM and SIGHUP to
// prog load and prog loadall at their start, once the pin directory is
// made, and while the verifier works (the map pinned by name exists, the
// programs are not loaded yet): every trial ends with the kernel's
// objects of that name and the bpffs tree as before, and a caught signal
// exits with 128 + its number and one line saying so.
func TestSignalsDuringLoadLeaveNothing(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := testutil.Object(t, "loader/faults_slow")
	dir := i17Dir(t, "sigload")
	os.Remove(slowPin)
	t.Cleanup(func() { os.Remove(slowPin) })
	before := i17Tree(t)
	points := []signalPoint{
		{"start", nil},
		{"pin directory made", func() bool { return exists(dir) }},
		{"verification (map pinned by name)", func() bool { return exists(slowPin) }},
	}
	for _, verb := range []string{"load", "loadall"} {
		for _, at := range points {
			if verb == "load" && at.name == "pin directory made" {
				continue // load makes no directory
			}
			for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
				what := fmt.Sprintf("prog %s, %s at %s", verb, sig, at.name)
				code, killed, stderr := signalTrial(t, sig, at, "prog", verb, obj, dir)
				switch {
				case killed == sig && at.ready == nil:
					// Before bpfkit caught signals: nothing was made yet.
				case code == 128+int(sig):
					if !strings.Contains(stderr, "interrupted by "+unix.SignalName(sig)) || strings.Count(stderr, "\n") != 1 {
						t.Errorf("%s: stderr %q", what, stderr)
					}
				default:
					t.Errorf("%s: exit %d, killed by %v: %s", what, code, killed, stderr)
				}
				checkNothingLeft(t, what, before, slowNames...)
			}
		}
	}
}

// TestSignalsDuringRunStartLeaveNothing: a signal while run's object is
// verified stops run before it attaches anything, with nothing left; a
// signal once it streams ends it with its summary, also with nothing
// left.
func TestSignalsDuringRunStartLeaveNothing(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := testutil.Object(t, "loader/faults_slow")
	os.Remove(slowPin)
	t.Cleanup(func() { os.Remove(slowPin) })
	before := i17Tree(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		at := signalPoint{"verification", func() bool { return exists(slowPin) }}
		code, killed, stderr := signalTrial(t, sig, at, "run", obj)
		if code != 128+int(sig) || killed != 0 || !strings.HasPrefix(stderr, "Error: run: interrupted by ") {
			t.Errorf("run, %s during verification: exit %d, killed by %v: %s", sig, code, killed, stderr)
		}
		checkNothingLeft(t, "run, "+sig.String()+" during verification", before, slowNames...)
	}
}

// TestSignalsDuringShortVerbsLeaveNothing sends each signal to map create
// and map pin after a growing delay, so that it lands before, during and
// after their work: either the command finished (exit 0, its pin made)
// or the signal stopped it and nothing it made is left.
func TestSignalsDuringShortVerbsLeaveNothing(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := i17Dir(t, "sigshort")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mustBpfkit(t, "map", "create", dir+"/src", "type", "array", "key", "4", "value", "4", "entries", "1", "name", "i17_sig_src")
	before := i17Tree(t)
	trials := 0
	for delay := time.Duration(0); delay <= 12*time.Millisecond; delay += 2 * time.Millisecond {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			for _, c := range []struct {
				pin  string
				args []string
			}{
				{dir + "/made", []string{"map", "create", dir + "/made", "type", "hash", "key", "4", "value", "8", "entries", "4", "name", "i17_sig_made"}},
				{dir + "/again", []string{"map", "pin", "pinned", dir + "/src", dir + "/again"}},
			} {
				trials++
				d := delay
				start := time.Now()
				at := signalPoint{fmt.Sprintf("%v after start", d), func() bool { return time.Since(start) >= d }}
				code, killed, stderr := signalTrial(t, sig, at, c.args...)
				what := fmt.Sprintf("%s, %s %v after start", strings.Join(c.args[:2], " "), sig, d)
				switch {
				case code == 0:
					if !exists(c.pin) {
						t.Errorf("%s: exit 0 but %s is missing", what, c.pin)
					}
					os.Remove(c.pin)
				case killed == sig || code == 128+int(sig):
					if exists(c.pin) {
						t.Errorf("%s: stopped (exit %d, killed by %v) but left %s: %s", what, code, killed, c.pin, stderr)
						os.Remove(c.pin)
					}
				default:
					t.Errorf("%s: exit %d, killed by %v: %s", what, code, killed, stderr)
				}
				checkNothingLeft(t, what, before, "i17_sig_made")
			}
		}
	}
	t.Logf("%d trials", trials)
}

// TestSIGKILLDuringLoadallLeavesOnlyItsPins: SIGKILL cannot be caught.
// Killed while the verifier works, loadall leaves exactly what
// docs/testing.md says: the map pinned by name and the pin directory,
// and no program; the kernel frees everything only a file descriptor
// held.
func TestSIGKILLDuringLoadallLeavesOnlyItsPins(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := testutil.Object(t, "loader/faults_slow")
	dir := i17Dir(t, "sigkill")
	os.Remove(slowPin)
	t.Cleanup(func() { os.Remove(slowPin) })
	_, killed, _ := signalTrial(t, syscall.SIGKILL, signalPoint{"verification", func() bool { return exists(slowPin) }}, "prog", "loadall", obj, dir)
	if killed != syscall.SIGKILL {
		t.Fatalf("not killed by SIGKILL")
	}
	left := i17Tree(t)
	want := []string{dir, slowPin}
	if strings.Join(left, "\n") != strings.Join(want, "\n") {
		t.Errorf("after SIGKILL bpffs holds %v, want %v (docs/testing.md)", left, want)
	}
	if got := testutil.CountByName(slowNames...); got.Progs != 0 || got.Maps != 1 {
		t.Errorf("after SIGKILL: %+v, want only the pinned map", got)
	}
	os.Remove(slowPin)
	os.Remove(dir)
	testutil.WaitCountsAtMost(t, testutil.Counts{}, slowNames...)
}

// TestRunStartLoop starts bpfkit run twenty times on an object whose
// raw_tp/sys_enter program feeds two perf event arrays and two ring
// buffers and counts in a map pinned by name: records wait before the
// readers start. bpfkit once crashed about one start in twenty here
// (issue 17: a nil counter, or concurrent map access) and left the pin
// behind. Every start must end at --duration with exit 0, no Go panic or
// fatal error, the summary, and nothing left.
func TestRunStartLoop(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := testutil.Object(t, "loader/faults_events")
	const pin = "/sys/fs/bpf/i17_ev_pinned"
	os.Remove(pin)
	t.Cleanup(func() { os.Remove(pin) })
	before := i17Tree(t)
	for i := 0; i < 20; i++ {
		cmd := exec.Command(binPath, "run", "--duration", "300ms", obj)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil || strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "fatal error") {
			t.Fatalf("start %d: %v\n%s", i, err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "detached and unloaded everything") {
			t.Fatalf("start %d: no summary:\n%s", i, stdout.String())
		}
		checkNothingLeft(t, fmt.Sprintf("start %d", i), before, "i17_ev_emit", "i17_perf_a", "i17_perf_b", "i17_ring_a", "i17_ring_b", "i17_ev_pinned")
	}
}

// TestHostileFiles gives every verb that takes a file a FIFO with no
// writer, /dev/zero, a directory, a 1 GiB sparse file and an empty name:
// each fails at once (a hung open or read runs into the timeout) with one
// line saying what is wrong, and bounded memory (peak RSS at most 64 MiB
// above that of bpfkit --version run the same way: a child's peak RSS
// includes the test process's, which it was forked from; /dev/zero once
// grew without end). Nothing is pinned.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	if f, err := os.Create(sparse); err != nil {
		t.Fatal(err)
	} else {
		f.Truncate(1 << 30)
		f.Close()
	}
	files := []struct{ path, why string }{
		{fifo, "is a FIFO, not a regular file"},
		{"/dev/zero", "is a character device, not a regular file"},
		{dir, "is a directory, not a file"},
		{sparse, "file is 1073741824 bytes, more than the 134217728 bytes (128 MiB)"},
		{"", "empty"},
	}
	pin := "/sys/fs/bpf/i17_hostile"
	maxRSS := func(cmd *exec.Cmd) int64 {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return ru.Maxrss
		}
		return 0
	}
	version := exec.Command(binPath, "--version")
	if err := version.Run(); err != nil {
		t.Fatal(err)
	}
	baseline := maxRSS(version)
	verbs := [][]string{
		{"btf", "dump", "file"}, {"elf", "sections"}, {"elf", "symbols"}, {"elf", "maps"},
		{"elf", "programs"}, {"elf", "dump"}, {"prog", "load"}, {"prog", "loadall"}, {"run"},
	}
	for _, v := range verbs {
		for _, f := range files {
			args := append(append([]string(nil), v...), f.path)
			if v[0] == "prog" {
				args = append(args, pin)
			}
			cmd := exec.Command(binPath, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("%q: still running after 30s", args)
				continue
			}
			msg := stderr.String()
			if cmd.ProcessState.ExitCode() != 255 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "Error: ") || !strings.Contains(msg, f.why) {
				t.Errorf("%q: exit %d, stderr %q, want one line with %q", args, cmd.ProcessState.ExitCode(), msg, f.why)
			}
			if rss := maxRSS(cmd); rss > baseline+64<<10 {
				t.Errorf("%q: peak RSS %d KiB, bpfkit --version's %d KiB", args, rss, baseline)
			}
			if exists(pin) {
				t.Errorf("%q: left %s", args, pin)
				os.RemoveAll(pin)
			}
		}
	}
}

// TestDamagedBTF changes one type ID in faults_events.bpf.o's .BTF (the
// first member of the first struct, at file offset 2700, now refers to
// type 0x7fff, which does not exist): prog load, loadall and run refuse it
// in one line that says the object's BTF is damaged, and loadall leaves no
// pin directory (issue 17: cilium/ebpf panicked on such files, and before
// the check it answered "contains 5 symbols but 0 btf.Vars").
func TestDamagedBTF(t *testing.T) {
	testutil.RequirePrivileged(t)
	data, err := os.ReadFile(testutil.Object(t, "loader/faults_events"))
	if err != nil {
		t.Fatal(err)
	}
	const at = 2700
	if data[at] != 1 || data[at+1] != 0 || data[at+2] != 0 || data[at+3] != 0 {
		t.Fatalf("faults_events.bpf.o changed: bytes at %d are %x, want a member of type 1", at, data[at:at+4])
	}
	copy(data[at:], []byte{0xff, 0x7f, 0, 0})
	bad := filepath.Join(t.TempDir(), "damaged.bpf.o")
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := i17Dir(t, "damaged")
	before := i17Tree(t)
	for _, args := range [][]string{{"prog", "load", bad, dir}, {"prog", "loadall", bad, dir}, {"run", bad}} {
		r := bpfkit(t, args...)
		if r.code != 255 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "the object's BTF is damaged: ") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		checkNothingLeft(t, strings.Join(args[:2], " "), before, "i17_ev_emit", "i17_ev_pinned")
	}
}
