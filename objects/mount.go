package objects

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// BPFFSPath and TracefsPath are where bpfkit expects, and if need be mounts,
// the bpf filesystem and tracefs.
const (
	BPFFSPath   = "/sys/fs/bpf"
	TracefsPath = "/sys/kernel/tracing"
)

const tracefsMagic = 0x74726163

// EnsureBPFFS mounts a bpf filesystem at /sys/fs/bpf unless one is there.
func EnsureBPFFS() error {
	return ensureMounted(BPFFSPath, "bpf", unix.BPF_FS_MAGIC)
}

// EnsureTracefs mounts tracefs at /sys/kernel/tracing unless it is there.
func EnsureTracefs() error {
	return ensureMounted(TracefsPath, "tracefs", tracefsMagic)
}

// IsTracefs reports whether path is on a tracefs.
func IsTracefs(path string) bool { return isFS(path, tracefsMagic) }

func ensureMounted(dir, fstype string, magic int64) error {
	if isFS(dir, magic) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mount %s at %s: %w", fstype, dir, err)
	}
	if err := unix.Mount(fstype, dir, fstype, 0, ""); err != nil {
		return fmt.Errorf("mount %s at %s: %w", fstype, dir, PermissionHint(err))
	}
	return nil
}
