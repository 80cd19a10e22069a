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
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w: %w", ErrPermission, err)
	}
	return err
}
