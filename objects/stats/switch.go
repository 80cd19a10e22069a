package stats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects"
)

// SysctlPath is the sysctl that turns run-time statistics on for every
// program, for as long as it reads 1.
const SysctlPath = "/proc/sys/kernel/bpf_stats_enabled"

// Method is how a Switch keeps statistics on.
type Method int

const (
	// Auto holds a BPF_ENABLE_STATS file descriptor, and falls back to the
	// sysctl only where the kernel lacks that command (before Linux 5.8).
	Auto Method = iota
	// Sysctl sets kernel.bpf_stats_enabled to 1 and puts back what it
	// read when the switch closes.
	Sysctl
	// FD is a BPF_ENABLE_STATS file descriptor: the kernel counts while
	// any such descriptor is open, and drops it when the process ends,
	// however it ends.
	FD
)

// String names the method as the documentation does.
func (m Method) String() string {
	switch m {
	case Sysctl:
		return "kernel.bpf_stats_enabled"
	case FD:
		return "BPF_ENABLE_STATS"
	}
	return "auto"
}

// Switch keeps the kernel's run-time statistics on until Close. Close it
// on every way out of the command that holds it: with the sysctl method
// it is what puts the sysctl back.
type Switch struct {
	method Method
	fd     io.Closer
	// sysctl is the file the sysctl method wrote, and restore what it
	// read there first; restore is nil when it found statistics already
	// on and changed nothing.
	sysctl  string
	restore []byte
	once    sync.Once
	closed  atomic.Bool
	err     error
}

// enableStats is BPF_ENABLE_STATS for run time: a variable so that a test
// can play a kernel that lacks the command.
var enableStats = func() (io.Closer, error) { return ebpf.EnableStats(unix.BPF_STATS_RUN_TIME) }

// Enable turns run-time statistics on with method m (Auto: the file
// descriptor, or the sysctl where the kernel lacks BPF_ENABLE_STATS).
func Enable(m Method) (*Switch, error) {
	return enable(m, SysctlPath)
}

func enable(m Method, sysctl string) (*Switch, error) {
	if m != Sysctl {
		fd, err := enableStats()
		switch {
		case err == nil:
			return &Switch{method: FD, fd: fd}, nil
		case m == FD || !errors.Is(err, unix.EINVAL):
			// EINVAL is the kernel's answer to a command it does not
			// know; anything else is a real failure.
			return nil, fmt.Errorf("enable run-time statistics (BPF_ENABLE_STATS): %w", objects.PermissionHint(err))
		}
	}
	before, err := os.ReadFile(sysctl)
	if err != nil {
		return nil, fmt.Errorf("enable run-time statistics: %w", objects.PermissionHint(err))
	}
	s := &Switch{method: Sysctl, sysctl: sysctl}
	if on(before) {
		return s, nil // on already: nothing to change, nothing to put back
	}
	if err := os.WriteFile(sysctl, []byte("1\n"), 0); err != nil {
		return nil, fmt.Errorf("enable run-time statistics (%s): %w", sysctl, objects.PermissionHint(err))
	}
	s.restore = before
	return s, nil
}

// on reports whether a sysctl's contents say 1.
func on(value []byte) bool { return string(bytes.TrimSpace(value)) == "1" }

// Method returns how the switch keeps statistics on: FD or Sysctl.
func (s *Switch) Method() Method { return s.method }

// Open reports whether s holds statistics on: it is not nil and not
// closed.
func (s *Switch) Open() bool { return s != nil && !s.closed.Load() }

// Close turns statistics back off: it closes the file descriptor, or
// writes back the sysctl value Enable found. Only the first call acts;
// later ones return its error.
func (s *Switch) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		switch {
		case s.fd != nil:
			s.err = s.fd.Close()
		case s.restore != nil:
			if err := os.WriteFile(s.sysctl, s.restore, 0); err != nil {
				s.err = fmt.Errorf("restore %s to %s: %w", s.sysctl, bytes.TrimSpace(s.restore), err)
			}
		}
	})
	return s.err
}
