package testutil

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// The tracepoint TracepointProgram attaches to: the entry of
// sched_get_priority_max, a system call that hardly any process makes, so
// that the runs a test counts are the calls it made with Trigger.
const (
	tracepointGroup = "syscalls"
	tracepointName  = "sys_enter_sched_get_priority_max"
)

// TracepointProgram loads a program called name on the entry tracepoint of
// sched_get_priority_max and attaches it; both go when the test ends.
// Trigger runs it. It needs root, and mounts tracefs at /sys/kernel/tracing
// when nothing is mounted there.
func TracepointProgram(tb testing.TB, name string) *ebpf.Program {
	tb.Helper()
	RequirePrivileged(tb)
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/kernel/tracing", &st); err != nil || int64(st.Type) != unix.TRACEFS_MAGIC {
		if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
			tb.Fatalf("mount tracefs: %v", err)
		}
	}
	p := NewProgram(tb, &ebpf.ProgramSpec{Name: name, Type: ebpf.TracePoint, License: "GPL", Instructions: ReturnZero()})
	l, err := link.Tracepoint(tracepointGroup, tracepointName, p, nil)
	if err != nil {
		tb.Fatalf("attach %s to %s:%s: %v", name, tracepointGroup, tracepointName, err)
	}
	tb.Cleanup(func() { l.Close() })
	return p
}

// Trigger makes the system call TracepointProgram's programs run on, n
// times: each call runs each of them once.
func Trigger(n int) {
	for range n {
		unix.Syscall(unix.SYS_SCHED_GET_PRIORITY_MAX, 0, 0, 0)
	}
}
