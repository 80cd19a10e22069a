package testutil

import (
	"os"
	"regexp"
	"testing"

	"golang.org/x/sys/unix"
)

// bpffsPath is where the tests pin: the bpf filesystem's usual mount point.
const bpffsPath = "/sys/fs/bpf"

// notInName is what a pin directory's name does not take from a test name
// (bpffs refuses names with a dot).
var notInName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// PinDir returns a fresh directory on the bpf filesystem at /sys/fs/bpf,
// named after the test, and removes it with every pin under it when the
// test ends. It needs root (see RequirePrivileged) and mounts bpffs at
// /sys/fs/bpf when nothing is mounted there.
func PinDir(tb testing.TB) string {
	tb.Helper()
	RequirePrivileged(tb)
	var st unix.Statfs_t
	if err := unix.Statfs(bpffsPath, &st); err != nil || int64(st.Type) != unix.BPF_FS_MAGIC {
		if err := unix.Mount("bpf", bpffsPath, "bpf", 0, ""); err != nil {
			tb.Fatalf("%s is not a bpf filesystem, and mounting one there failed: %v", bpffsPath, err)
		}
	}
	name := notInName.ReplaceAllString(tb.Name(), "_")
	if len(name) > 64 {
		name = name[:64]
	}
	dir, err := os.MkdirTemp(bpffsPath, "bpfkit-test-"+name+"-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
