package attachments

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects"
)

// CgroupAttachTypes are the attach types `cgroup show` asks each cgroup
// about, in bpftool 7.8's order: the inet, unix socket, sockopt, device,
// sysctl and LSM hooks.
var CgroupAttachTypes = []ebpf.AttachType{
	ebpf.AttachCGroupInetIngress,
	ebpf.AttachCGroupInetEgress,
	ebpf.AttachCGroupInetSockCreate,
	ebpf.AttachCgroupInetSockRelease,
	ebpf.AttachCGroupInet4Bind,
	ebpf.AttachCGroupInet6Bind,
	ebpf.AttachCGroupInet4PostBind,
	ebpf.AttachCGroupInet6PostBind,
	ebpf.AttachCGroupInet4Connect,
	ebpf.AttachCGroupInet6Connect,
	ebpf.AttachCgroupUnixConnect,
	ebpf.AttachCgroupInet4GetPeername,
	ebpf.AttachCgroupInet6GetPeername,
	ebpf.AttachCgroupUnixGetpeername,
	ebpf.AttachCgroupInet4GetSockname,
	ebpf.AttachCgroupInet6GetSockname,
	ebpf.AttachCgroupUnixGetsockname,
	ebpf.AttachCGroupUDP4Sendmsg,
	ebpf.AttachCGroupUDP6Sendmsg,
	ebpf.AttachCgroupUnixSendmsg,
	ebpf.AttachCGroupUDP4Recvmsg,
	ebpf.AttachCGroupUDP6Recvmsg,
	ebpf.AttachCgroupUnixRecvmsg,
	ebpf.AttachCGroupSockOps,
	ebpf.AttachCGroupDevice,
	ebpf.AttachCGroupSysctl,
	ebpf.AttachCGroupGetsockopt,
	ebpf.AttachCGroupSetsockopt,
	ebpf.AttachLSMCgroup,
}

// cgroupInputNames are the older names bpftool still takes for cgroup
// attach types, by prefix ("ingress", "connect4").
var cgroupInputNames = map[ebpf.AttachType]string{
	ebpf.AttachCGroupInetIngress:      "ingress",
	ebpf.AttachCGroupInetEgress:       "egress",
	ebpf.AttachCGroupInetSockCreate:   "sock_create",
	ebpf.AttachCgroupInetSockRelease:  "sock_release",
	ebpf.AttachCGroupSockOps:          "sock_ops",
	ebpf.AttachCGroupDevice:           "device",
	ebpf.AttachCGroupInet4Bind:        "bind4",
	ebpf.AttachCGroupInet6Bind:        "bind6",
	ebpf.AttachCGroupInet4Connect:     "connect4",
	ebpf.AttachCGroupInet6Connect:     "connect6",
	ebpf.AttachCGroupInet4PostBind:    "post_bind4",
	ebpf.AttachCGroupInet6PostBind:    "post_bind6",
	ebpf.AttachCgroupInet4GetPeername: "getpeername4",
	ebpf.AttachCgroupInet6GetPeername: "getpeername6",
	ebpf.AttachCgroupInet4GetSockname: "getsockname4",
	ebpf.AttachCgroupInet6GetSockname: "getsockname6",
	ebpf.AttachCGroupUDP4Sendmsg:      "sendmsg4",
	ebpf.AttachCGroupUDP6Sendmsg:      "sendmsg6",
	ebpf.AttachCGroupSysctl:           "sysctl",
	ebpf.AttachCGroupUDP4Recvmsg:      "recvmsg4",
	ebpf.AttachCGroupUDP6Recvmsg:      "recvmsg6",
	ebpf.AttachCGroupGetsockopt:       "getsockopt",
	ebpf.AttachCGroupSetsockopt:       "setsockopt",
}

// ParseCgroupAttachType parses bpftool's ATTACH_TYPE of `cgroup attach`:
// libbpf's name exactly ("cgroup_inet_ingress"), or a prefix of the older
// name ("ingress", "connect4") or of libbpf's.
func ParseCgroupAttachType(word string) (ebpf.AttachType, error) {
	for _, t := range CgroupAttachTypes {
		if objects.AttachTypeName(t).Name == word {
			return t, nil
		}
	}
	if word != "" {
		// Prefixes go in the kernel's order of attach types, as bpftool
		// walks them.
		for _, t := range slices.Sorted(slices.Values(CgroupAttachTypes)) {
			name, ok := cgroupInputNames[t]
			if !ok {
				name = objects.AttachTypeName(t).Name
			}
			if strings.HasPrefix(name, word) {
				return t, nil
			}
		}
	}
	if t, ok := objects.AttachTypeByName(word); ok {
		return 0, fmt.Errorf("invalid attach type: %s is not a cgroup attach type", objects.AttachTypeName(t))
	}
	return 0, fmt.Errorf("invalid attach type: %s", word)
}

// CgroupProgram is a program attached to a cgroup, with the fields of
// bpftool's `cgroup show`.
type CgroupProgram struct {
	ID         uint32
	AttachType objects.TypeName
	// AttachFlags is "multi", "override", "" or "unknown(N)"; HasFlags is
	// false for effective queries, which have none.
	AttachFlags string
	HasFlags    bool
	Name        string
	// AttachBTFName names the kernel function an lsm_cgroup program
	// attaches to. HasAttachBTFName is set when it is vmlinux's, and, as
	// bpftool has it, for programs with no attach BTF (an empty name).
	AttachBTFName    string
	HasAttachBTFName bool
	AttachBTFObjID   uint32
	AttachBTFID      uint32
}

// CgroupPrograms are the programs of one cgroup in `cgroup tree`.
type CgroupPrograms struct {
	Path     string
	Level    int
	Programs []CgroupProgram
}

// OpenCgroup opens a cgroup v2 directory, or says what path is instead.
func OpenCgroup(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("can't open cgroup %s: %w", path, unwrapPath(err))
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("can't open cgroup %s: %w", path, err)
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		if fi, err := f.Stat(); err == nil && !fi.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s is not a cgroup: it is a file of one", path)
		}
		return f, nil
	case unix.CGROUP_SUPER_MAGIC:
		f.Close()
		root := ""
		if r, err := Cgroup2Root(); err == nil {
			root = " (mounted at " + r + ")"
		}
		return nil, fmt.Errorf("%s is a cgroup v1 directory: BPF programs attach to cgroup v2 only%s", path, root)
	}
	f.Close()
	return nil, fmt.Errorf("%s is not a cgroup: not on a cgroup v2 filesystem", path)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Cgroup2Root returns where cgroup v2 is mounted: the first cgroup2 mount
// in /proc/mounts, as bpftool's `cgroup tree` finds it.
func Cgroup2Root() (string, error) {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == "cgroup2" {
			return objects.UnescapeMount(fields[1]), nil
		}
	}
	return "", errors.New("cgroup v2 isn't mounted")
}

// CgroupShow lists the programs attached to the cgroup at path (legacy
// attachments and links alike), or with effective those that run there,
// inherited ones included.
func CgroupShow(path string, effective bool) ([]CgroupProgram, error) {
	f, err := OpenCgroup(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names kernelNames
	progs, err := cgroupPrograms(int(f.Fd()), effective, &names)
	if err != nil {
		return nil, fmt.Errorf("can't query bpf programs attached to %s: %w", path, err)
	}
	return progs, nil
}

// CgroupTree lists the programs of every cgroup under root (the cgroup v2
// mount when root is ""), leaving out cgroups without any, and staying on
// root's filesystem.
func CgroupTree(root string, effective bool) ([]CgroupPrograms, error) {
	if root == "" {
		r, err := Cgroup2Root()
		if err != nil {
			return nil, err
		}
		root = r
	}
	top, err := OpenCgroup(root)
	if err != nil {
		return nil, err
	}
	var rootSt unix.Stat_t
	err = unix.Fstat(int(top.Fd()), &rootSt)
	top.Close()
	if err != nil {
		return nil, err
	}
	var out []CgroupPrograms
	var names kernelNames
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return fmt.Errorf("can't iterate over %s: %w", root, unwrapPath(err))
		}
		if !d.IsDir() {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil || st.Dev != rootSt.Dev {
			return filepath.SkipDir
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			return filepath.SkipDir
		}
		if err != nil {
			return fmt.Errorf("can't open cgroup %s: %w", path, err)
		}
		progs, err := cgroupPrograms(fd, effective, &names)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("can't query bpf programs attached to %s: %w", path, err)
		}
		if len(progs) > 0 {
			level := 0
			if rel, err := filepath.Rel(root, path); err == nil && rel != "." {
				level = strings.Count(rel, string(filepath.Separator)) + 1
			}
			out = append(out, CgroupPrograms{Path: path, Level: level, Programs: progs})
		}
		return nil
	})
	return out, err
}

// cgroupPrograms queries every cgroup attach type of the cgroup open at
// fd. Attach types the kernel does not know (EINVAL) have no programs.
func cgroupPrograms(fd int, effective bool, names *kernelNames) ([]CgroupProgram, error) {
	var flags uint32
	if effective {
		flags = unix.BPF_F_QUERY_EFFECTIVE
	}
	var out []CgroupProgram
	for _, t := range CgroupAttachTypes {
		q, err := objects.ProgQuery(fd, uint32(t), flags)
		if errors.Is(err, unix.EINVAL) {
			continue
		}
		if err != nil {
			return nil, objects.PermissionHint(err)
		}
		for i, id := range q.ProgIDs {
			p := CgroupProgram{ID: id, AttachType: objects.AttachTypeName(t), HasFlags: !effective}
			if !effective {
				f := q.ProgFlags[i]
				if f == 0 {
					f = q.AttachFlags
				}
				p.AttachFlags = attachFlagsName(f)
			}
			info, err := objects.Programs.DescribeOne(objects.Selector{Kind: objects.SelectID, ID: id})
			if err != nil {
				continue // detached meanwhile
			}
			p.Name, p.AttachBTFObjID, p.AttachBTFID = info.Name, info.AttachBTFObjID, info.AttachBTFID
			if p.AttachBTFObjID == 0 {
				p.HasAttachBTFName = true
			} else {
				p.AttachBTFName, p.HasAttachBTFName = names.lookup(p.AttachBTFObjID, p.AttachBTFID)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func attachFlagsName(f uint32) string {
	switch f {
	case unix.BPF_F_ALLOW_MULTI:
		return "multi"
	case unix.BPF_F_ALLOW_OVERRIDE:
		return "override"
	case 0:
		return ""
	}
	return fmt.Sprintf("unknown(%x)", f)
}

// kernelNames names types of the kernel's BTF (vmlinux), loaded once when
// a program needs it.
type kernelNames struct {
	once   sync.Once
	spec   *ebpfbtf.Spec
	vmlinx uint32
}

// lookup returns the name of type id of BTF object obj when obj is
// vmlinux's.
func (k *kernelNames) lookup(obj, id uint32) (string, bool) {
	k.once.Do(func() {
		k.spec, _ = ebpfbtf.LoadKernelSpec()
		if infos, err := objects.ListBTF(0); err == nil {
			for _, b := range infos {
				if b.IsVmlinux() {
					k.vmlinx = b.ID
				}
			}
		}
	})
	if k.spec == nil || obj != k.vmlinx {
		return "", false
	}
	t, err := k.spec.TypeByID(ebpfbtf.TypeID(id))
	if err != nil {
		return "", false
	}
	return t.TypeName(), true
}

// CgroupAttachMode is the flag of `cgroup attach`: none, multi or override.
type CgroupAttachMode uint32

// The modes of `cgroup attach`.
const (
	CgroupExclusive = CgroupAttachMode(0)
	CgroupMulti     = CgroupAttachMode(unix.BPF_F_ALLOW_MULTI)
	CgroupOverride  = CgroupAttachMode(unix.BPF_F_ALLOW_OVERRIDE)
)

// cgroupProgTypes are the program types each cgroup hook runs.
func cgroupProgType(t ebpf.AttachType) ebpf.ProgramType {
	switch t {
	case ebpf.AttachCGroupInetIngress, ebpf.AttachCGroupInetEgress:
		return ebpf.CGroupSKB
	case ebpf.AttachCGroupInetSockCreate, ebpf.AttachCgroupInetSockRelease,
		ebpf.AttachCGroupInet4PostBind, ebpf.AttachCGroupInet6PostBind:
		return ebpf.CGroupSock
	case ebpf.AttachCGroupSockOps:
		return ebpf.SockOps
	case ebpf.AttachCGroupDevice:
		return ebpf.CGroupDevice
	case ebpf.AttachCGroupSysctl:
		return ebpf.CGroupSysctl
	case ebpf.AttachCGroupGetsockopt, ebpf.AttachCGroupSetsockopt:
		return ebpf.CGroupSockopt
	case ebpf.AttachLSMCgroup:
		return ebpf.LSM
	}
	return ebpf.CGroupSockAddr
}

// CgroupAttach attaches prog to the cgroup at path with BPF_PROG_ATTACH,
// as bpftool does (no link: it stays until detached).
func CgroupAttach(path string, t ebpf.AttachType, prog *ebpf.Program, mode CgroupAttachMode) error {
	if err := checkProgType(prog, cgroupProgType(t), objects.AttachTypeName(t).String()); err != nil {
		return err
	}
	f, err := OpenCgroup(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if attached(int(f.Fd()), t, prog) {
		return fmt.Errorf("failed to attach program: it is already attached to %s as %s", path, objects.AttachTypeName(t))
	}
	err = link.RawAttachProgram(link.RawAttachProgramOptions{Target: int(f.Fd()), Program: prog, Attach: t, Flags: uint32(mode)})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("failed to attach program: it is already attached to %s as %s: %w", path, objects.AttachTypeName(t), err)
	case errors.Is(err, unix.EPERM) && os.Geteuid() == 0:
		return fmt.Errorf("failed to attach program: %s already has a %s program attached in another mode (attach with 'multi', or detach it first): %w",
			path, objects.AttachTypeName(t), err)
	}
	return fmt.Errorf("failed to attach program: %w", objects.PermissionHint(errnoOf(err)))
}

// attached reports whether prog is attached to the cgroup open at fd as t.
func attached(fd int, t ebpf.AttachType, prog *ebpf.Program) bool {
	info, err := prog.Info()
	if err != nil {
		return false
	}
	id, _ := info.ID()
	q, err := objects.ProgQuery(fd, uint32(t), 0)
	return err == nil && slices.Contains(q.ProgIDs, uint32(id))
}

// errnoOf returns the system error inside err, without cilium/ebpf's
// wrapping ("attach program: "), when there is one.
func errnoOf(err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// CgroupDetach detaches prog from the cgroup at path.
func CgroupDetach(path string, t ebpf.AttachType, prog *ebpf.Program) error {
	f, err := OpenCgroup(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = link.RawDetachProgram(link.RawDetachProgramOptions{Target: int(f.Fd()), Program: prog, Attach: t})
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("failed to detach program: it is not attached to %s as %s: %w", path, objects.AttachTypeName(t), errnoOf(err))
	}
	if err != nil {
		return fmt.Errorf("failed to detach program: %w", objects.PermissionHint(errnoOf(err)))
	}
	return nil
}
