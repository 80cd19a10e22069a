package stats

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// fakeSysctl is a file standing for kernel.bpf_stats_enabled, holding
// value, with a modification time in the past.
func fakeSysctl(t *testing.T, value string) (path string, mtime time.Time) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "bpf_stats_enabled")
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime = time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return path, mtime
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withoutEnableStats plays a kernel older than 5.8 for the test: the
// BPF_ENABLE_STATS command fails with EINVAL, as the kernel answers a
// command it does not know.
func withoutEnableStats(t *testing.T, err error) {
	t.Helper()
	saved := enableStats
	t.Cleanup(func() { enableStats = saved })
	enableStats = func() (io.Closer, error) { return nil, err }
}

// TestSysctlRestored: the sysctl method writes 1 and, on Close (once,
// however often it is called), puts back exactly what it read.
func TestSysctlRestored(t *testing.T) {
	path, _ := fakeSysctl(t, "0\n")
	sw, err := enable(Sysctl, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "1\n" {
		t.Errorf("while held: %q, want \"1\\n\"", got)
	}
	if sw.Method() != Sysctl || !sw.Open() {
		t.Errorf("method %v, open %v", sw.Method(), sw.Open())
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "0\n" {
		t.Errorf("after Close: %q, want \"0\\n\"", got)
	}
	// A second Close writes nothing: another holder may have set it since.
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil || sw.Open() {
		t.Errorf("second Close: %v, open %v", err, sw.Open())
	}
	if got := readFile(t, path); got != "1\n" {
		t.Errorf("second Close wrote the sysctl: %q", got)
	}
}

// TestSysctlAlreadyOn: statistics already on are left alone, and Close
// does not turn them off.
func TestSysctlAlreadyOn(t *testing.T) {
	path, mtime := fakeSysctl(t, "1\n")
	sw, err := enable(Sysctl, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "1\n" || !st.ModTime().Equal(mtime) {
		t.Errorf("sysctl %q, modified %v (was %v): it was on and must not be written", got, st.ModTime(), mtime)
	}
}

// TestFallback: where the kernel lacks BPF_ENABLE_STATS (EINVAL), Auto
// falls back to the sysctl; any other failure is an error, and FD never
// falls back.
func TestFallback(t *testing.T) {
	path, _ := fakeSysctl(t, "0\n")
	withoutEnableStats(t, unix.EINVAL)
	sw, err := enable(Auto, path)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Method() != Sysctl || readFile(t, path) != "1\n" {
		t.Errorf("method %v, sysctl %q: want the sysctl set", sw.Method(), readFile(t, path))
	}
	sw.Close()
	if got := readFile(t, path); got != "0\n" {
		t.Errorf("after Close: %q", got)
	}
	if _, err := enable(FD, path); !errors.Is(err, unix.EINVAL) {
		t.Errorf("FD without the command: %v, want EINVAL", err)
	}

	withoutEnableStats(t, unix.EPERM)
	_, err = enable(Auto, path)
	if !errors.Is(err, unix.EPERM) || !strings.Contains(err.Error(), "needs root") {
		t.Errorf("EPERM: %v, want the permission error", err)
	}
	if got := readFile(t, path); got != "0\n" {
		t.Errorf("a failed Enable touched the sysctl: %q", got)
	}
}

// statsFDs counts the BPF_ENABLE_STATS descriptors this process holds.
func statsFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && l == "anon_inode:bpf-stats" {
			n++
		}
	}
	return n
}

// TestEnableFD: on this kernel Auto holds a BPF_ENABLE_STATS descriptor,
// the kernel counts the runs of a program while it is open, Status says
// the process holds statistics on, and Close gives the descriptor back.
func TestEnableFD(t *testing.T) {
	testutil.RequirePrivileged(t)
	p := testutil.TracepointProgram(t, "i11_stats_fd")
	before := statsFDs(t)
	sw, err := Enable(Auto)
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	if sw.Method() != FD {
		t.Fatalf("method %v, want BPF_ENABLE_STATS on Linux 6.18", sw.Method())
	}
	if got := statsFDs(t); got != before+1 {
		t.Errorf("%d BPF_ENABLE_STATS descriptors held, want %d", got, before+1)
	}
	st, err := ReadStatus(sw)
	if err != nil || !st.Self || !st.Enabled() {
		t.Errorf("status %+v, %v: want held by this process", st, err)
	}
	testutil.Trigger(100)
	s, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.RunCount < 100 || s.Runtime <= 0 {
		t.Errorf("after 100 calls with statistics on: %d runs, %v", s.RunCount, s.Runtime)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if got := statsFDs(t); got != before {
		t.Errorf("after Close: %d descriptors, want %d", got, before)
	}
	if st, err := ReadStatus(sw); err != nil || st.Self {
		t.Errorf("status after Close %+v, %v", st, err)
	}
}

// TestEnableSysctl: the sysctl method on the real sysctl sets it while
// held and puts back what it found. Others may set it too; the test reads
// it right after each step of its own.
func TestEnableSysctl(t *testing.T) {
	testutil.RequirePrivileged(t)
	before := readFile(t, SysctlPath)
	sw, err := Enable(Sysctl)
	if err != nil {
		t.Fatal(err)
	}
	during := readFile(t, SysctlPath)
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	after := readFile(t, SysctlPath)
	if during != "1\n" || after != before {
		t.Errorf("sysctl %q before, %q while held, %q after: want 1 while held and %q after", before, during, after, before)
	}
}
