package objects

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/pin"
	"golang.org/x/sys/unix"
)

// objectKind names the kind of a pinned object, as bpftool's "incorrect
// object type" message does.
func objectKind(p pin.Pinner) string {
	switch p.(type) {
	case *ebpf.Program:
		return "prog"
	case *ebpf.Map:
		return "map"
	case link.Link:
		return "link"
	}
	return "unknown"
}

// loadPin opens the object pinned at path with a clear error when there is
// none, or when path is not on a bpffs.
func loadPin(path string) (pin.Pinner, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open pin %s: %w", path, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("open pin %s: is a directory", path)
	}
	if !IsBPFFS(path) {
		return nil, fmt.Errorf("open pin %s: not on a bpf filesystem", path)
	}
	p, err := pin.Load(path, nil)
	if err != nil {
		return nil, fmt.Errorf("open pin %s: %w", path, PermissionHint(errors.Unwrap(err)))
	}
	return p, nil
}

// openPinned opens the object pinned at path and checks that it is a T.
func openPinned[T pin.Pinner](path, want string) (T, error) {
	var zero T
	p, err := loadPin(path)
	if err != nil {
		return zero, err
	}
	obj, ok := p.(T)
	if !ok {
		kind := objectKind(p)
		p.Close()
		return zero, fmt.Errorf("incorrect object type behind pin %s: %s, want %s", path, kind, want)
	}
	return obj, nil
}

// IsBPFFS reports whether path is on a BPF filesystem.
func IsBPFFS(path string) bool {
	return isFS(path, unix.BPF_FS_MAGIC)
}

// isFS reports whether path is on a filesystem with the given magic.
func isFS(path string, magic int64) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && int64(st.Type) == magic
}

// bpffsMounts lists the mount points of every bpf filesystem.
func bpffsMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == "bpf" {
			mounts = append(mounts, unescapeMount(fields[1]))
		}
	}
	return mounts, sc.Err()
}

// unescapeMount undoes the octal escapes of /proc/mounts (`\040` for space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// pinnedPaths walks every mounted bpffs and returns, for objects of the
// kind of T (program, map or link), their pinned paths by id.
func pinnedPaths[T pin.Pinner](id func(T) (uint32, error)) (map[uint32][]string, error) {
	mounts, err := bpffsMounts()
	if err != nil {
		return nil, fmt.Errorf("list bpf filesystems: %w", err)
	}
	paths := make(map[uint32][]string)
	seen := make(map[string]bool)
	for _, root := range mounts {
		if seen[root] {
			continue
		}
		seen[root] = true
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			p, err := pin.Load(path, nil)
			if err != nil {
				return nil
			}
			defer p.Close()
			if obj, ok := p.(T); ok {
				if n, err := id(obj); err == nil {
					paths[n] = append(paths[n], path)
				}
			}
			return nil
		})
	}
	return paths, nil
}

// pinsOf returns id's pinned paths for a -f listing: nil when nothing at
// all is pinned, so that the field is left out, and an empty list when
// other objects are pinned but not this one, as bpftool prints them.
func pinsOf(pins map[uint32][]string, id uint32) *[]string {
	if len(pins) == 0 {
		return nil
	}
	paths := append([]string{}, pins[id]...)
	return &paths
}

// ErrNotBPFFS is returned for a pin path outside a BPF filesystem.
var ErrNotBPFFS = errors.New("not on a BPF filesystem (bpffs)")

// ErrPinExists is returned when something already exists at a pin path:
// bpfkit never overwrites a pin.
var ErrPinExists = errors.New("already exists (bpfkit never overwrites a pin)")

// CheckPinDir checks that dir exists and is on a bpffs.
func CheckPinDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("pin directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("pin directory %s: not a directory", dir)
	}
	if !IsBPFFS(dir) {
		return fmt.Errorf("pin directory %s: %w", dir, ErrNotBPFFS)
	}
	return checkWritable(dir)
}

// checkWritable fails when this process may not create entries in dir:
// a pin needs write and search permission on its directory, which
// capabilities such as CAP_BPF do not grant (root's CAP_DAC_OVERRIDE
// does). The kernel would say only EACCES.
func checkWritable(dir string) error {
	err := unix.Faccessat(unix.AT_FDCWD, dir, unix.W_OK|unix.X_OK, unix.AT_EACCESS)
	if err == nil || !(errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) {
		return nil
	}
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil {
		return fmt.Errorf("no write permission on directory %s", dir)
	}
	return fmt.Errorf("no write permission on directory %s (mode %04o, owner uid %d, gid %d; this process runs as uid %d)",
		dir, st.Mode&0o7777, st.Uid, st.Gid, os.Geteuid())
}

// CheckPinPath checks that path can take a new pin: its directory is on a
// bpffs and nothing exists at path.
func CheckPinPath(path string) error {
	if path == "" {
		return errors.New("empty pin path")
	}
	if strings.Contains(filepath.Base(path), ".") {
		return fmt.Errorf("pin path %s: bpffs refuses names containing '.'", path)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("pin path %s: %w", path, ErrPinExists)
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("pin path %s: %w", path, err)
	}
	if !IsBPFFS(dir) {
		return fmt.Errorf("pin path %s: %w", path, ErrNotBPFFS)
	}
	if err := checkWritable(dir); err != nil {
		return fmt.Errorf("pin path %s: %w", path, err)
	}
	return nil
}

// UnescapeMount undoes the octal escapes of a /proc/mounts field.
func UnescapeMount(s string) string { return unescapeMount(s) }
