package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// ChildEnv marks the child process that probes without privileges: a
// program whose environment has it set runs `feature probe` and writes
// its Report with WriteReport instead of printing it.
const ChildEnv = "BPFKIT_FEATURE_PROBE_CHILD"

// bpfCaps are the capabilities that make a user privileged for BPF, the
// ones bpftool's `unprivileged` drops.
var bpfCaps = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_BPF, unix.CAP_NET_ADMIN, unix.CAP_PERFMON}

// ProbeUnprivileged probes as a user without CAP_SYS_ADMIN, CAP_BPF,
// CAP_NET_ADMIN and CAP_PERFMON would: it runs exe with args (a command
// line that probes, see ChildEnv) in a child process that cannot hold
// those capabilities, and reads the child's Report.
//
// A child, not this process: capabilities belong to threads, and a Go
// program's goroutines move between threads, so dropping them for the
// probes alone would mean pinning every probe to one thread, giving up
// concurrent probing, and cilium/ebpf caches probe results for the whole
// process. The child is started from a locked thread whose capability
// bounding set lacks those capabilities; the child inherits the bounding
// set, so the kernel withholds them when it execs the child even though
// it runs as root. The thread is never unlocked, so Go discards it.
func ProbeUnprivileged(exe string, args []string) (*Report, error) {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread dies with this goroutine.
		if os.Geteuid() == 0 {
			for _, c := range bpfCaps {
				if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
					started <- fmt.Errorf("drop capabilities: %w", err)
					return
				}
			}
		}
		started <- cmd.Start()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start unprivileged probe: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "Error: "))
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("unprivileged probe: %s", msg)
	}
	return ReadReport(&stdout)
}

// WriteReport writes r for ProbeUnprivileged to read.
func WriteReport(w io.Writer, r *Report) error {
	return json.NewEncoder(w).Encode(r)
}

// ReadReport reads a Report that WriteReport wrote.
func ReadReport(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("read unprivileged probe's report: %w", err)
	}
	return &r, nil
}
