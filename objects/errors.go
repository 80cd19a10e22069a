package objects

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrPermission is returned when the kernel refuses bpfkit for lack of
// privilege. Its message says what is needed.
var ErrPermission = errors.New("bpfkit needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)")

// PermissionHint replaces EPERM and EACCES with ErrPermission, keeping the
// original error in the chain.
func PermissionHint(err error) error {
	if err == nil {
		return nil
	}
	var pe *privilegeError
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w: %w", ErrPermission, err)
	}
	return err
}

// PrivilegeHint replaces an EPERM the kernel gave a process without
// CAP_BPF and CAP_SYS_ADMIN with an error that names the missing
// privilege for what (e.g. "creating a map"), matching ErrPermission and
// the errno. cilium/ebpf blames RLIMIT_MEMLOCK for any EPERM, which since
// Linux 5.11 (memory cgroup accounting) is never the cause when the
// capability is missing: the kernel checks the capability first. Other
// errors, and EPERM for a process that has the capabilities, are
// returned as they are.
func PrivilegeHint(err error, what string) error {
	if err == nil || !errors.Is(err, unix.EPERM) || hasBPFCapability() {
		return err
	}
	return &privilegeError{what: what}
}

type privilegeError struct{ what string }

func (e *privilegeError) Error() string {
	return fmt.Sprintf("%s needs CAP_BPF (or root), which this process lacks: %s", e.what, unix.EPERM.Error())
}

func (e *privilegeError) Is(target error) bool {
	return target == ErrPermission || target == unix.EPERM
}

// hasBPFCapability reports whether the process's effective set holds
// CAP_BPF or CAP_SYS_ADMIN (which also grants BPF).
func hasBPFCapability() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return true // unknown: leave the error as it is
	}
	has := func(bit uint) bool { return data[bit/32].Effective&(1<<(bit%32)) != 0 }
	return has(unix.CAP_BPF) || has(unix.CAP_SYS_ADMIN)
}
