package objects

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Owner is a process that holds a file descriptor of a BPF object: the
// `pids` of bpftool's show commands.
type Owner struct {
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
}

// Owners says which processes hold which programs, maps and links, by id,
// and which hold run-time statistics on (a BPF_ENABLE_STATS descriptor).
// A table that was not asked for is nil.
type Owners struct {
	Programs, Maps, Links map[uint32][]Owner
	Stats                 []Owner
}

// ObjectKind is a kind of BPF object that a process may hold.
type ObjectKind int

// The kinds of objects ScanOwners looks for.
const (
	KindProgram ObjectKind = iota
	KindMap
	KindLink
	// KindStats is a BPF_ENABLE_STATS descriptor. It has no id: its
	// holders are Owners.Stats.
	KindStats
)

// The names /proc/PID/fd links have for BPF objects, and the fdinfo line
// that gives each one's id, by ObjectKind.
var ownedKinds = [...]struct {
	link, idKey string
}{
	KindProgram: {"anon_inode:bpf-prog", "prog_id:"},
	KindMap:     {"anon_inode:bpf-map", "map_id:"},
	KindLink:    {"anon_inode:bpf_link", "link_id:"},
	KindStats:   {"anon_inode:bpf-stats", ""},
}

// ScanOwners reads /proc once and returns the processes holding programs,
// maps and links, or statistics, of the kinds given (all four when none is
// given). The
// calling process is left out, as bpftool leaves itself out: it holds the
// objects it is describing. Processes that end during the scan are
// skipped; without privilege, other users' processes are not visible.
//
// It costs one readlink per open file of every process and one fdinfo
// read per BPF object of a kind asked for: directories are read with
// getdents into one buffer and every file is named relative to its
// directory, so a process holding tens of thousands of objects is read
// without a per-file allocation.
func ScanOwners(kinds ...ObjectKind) (*Owners, error) {
	if len(kinds) == 0 {
		kinds = []ObjectKind{KindProgram, KindMap, KindLink, KindStats}
	}
	o := &Owners{}
	var tables [len(ownedKinds)]map[uint32][]Owner
	wantStats := false
	for _, k := range kinds {
		if k == KindStats {
			wantStats = true
		} else {
			tables[k] = map[uint32][]Owner{}
		}
	}
	o.Programs, o.Maps, o.Links = tables[KindProgram], tables[KindMap], tables[KindLink]

	procfd, err := openDir(unix.AT_FDCWD, []byte("/proc\x00"))
	if err != nil {
		return nil, err
	}
	defer unix.Close(procfd)
	s := &ownerScan{tables: tables, wantStats: wantStats, self: unix.Getpid()}
	s.procBuf = make([]byte, 32<<10)
	s.fdBuf = make([]byte, 64<<10)
	err = eachDirent(procfd, s.procBuf, func(name []byte) {
		if pid, ok := atoi(name); ok && pid != s.self {
			s.process(procfd, pid, name)
		}
	})
	if err != nil {
		return nil, err
	}
	byPID := func(a, b Owner) int { return a.PID - b.PID }
	for _, t := range tables {
		for _, owners := range t {
			slices.SortFunc(owners, byPID)
		}
	}
	o.Stats = s.stats
	slices.SortFunc(o.Stats, byPID)
	return o, nil
}

// StatsHolders returns the processes other than the calling one holding
// BPF_ENABLE_STATS descriptors: a scan that reads no fdinfo.
func StatsHolders() ([]Owner, error) {
	o, err := ScanOwners(KindStats)
	if err != nil {
		return nil, err
	}
	return o.Stats, nil
}

// ownerScan is the state of one ScanOwners: reused buffers.
type ownerScan struct {
	tables          [len(ownedKinds)]map[uint32][]Owner
	wantStats       bool
	stats           []Owner
	self            int
	procBuf, fdBuf  []byte
	path, link, buf [256]byte
	info            [1024]byte
}

// process records what the process pid (its /proc directory name) holds.
func (s *ownerScan) process(procfd, pid int, name []byte) {
	path := append(append(s.path[:0], name...), "/fd\x00"...)
	fdDir, err := openDir(procfd, path)
	if err != nil {
		return // gone, or not ours to see
	}
	defer unix.Close(fdDir)
	infoDir := -1
	defer func() {
		if infoDir >= 0 {
			unix.Close(infoDir)
		}
	}()
	comm := ""
	eachDirent(fdDir, s.fdBuf, func(fd []byte) {
		n := readlinkat(fdDir, fd, s.link[:])
		if n < len("anon_inode:bpf") || !bytes.HasPrefix(s.link[:n], []byte("anon_inode:bpf")) {
			return
		}
		for k, kind := range ownedKinds {
			if string(s.link[:n]) != kind.link {
				continue
			}
			if ObjectKind(k) == KindStats {
				if !s.wantStats {
					return
				}
				if comm == "" {
					comm = s.readComm(procfd, name)
				}
				if len(s.stats) == 0 || s.stats[len(s.stats)-1].PID != pid {
					s.stats = append(s.stats, Owner{PID: pid, Comm: comm})
				}
				return
			}
			if s.tables[k] == nil {
				return
			}
			if infoDir < 0 {
				path := append(append(s.path[:0], name...), "/fdinfo\x00"...)
				if infoDir, err = openDir(procfd, path); err != nil {
					infoDir = -1
					return
				}
			}
			id, ok := s.fdinfoID(infoDir, fd, kind.idKey)
			if !ok {
				return
			}
			if comm == "" {
				comm = s.readComm(procfd, name)
			}
			owners := s.tables[k][id]
			if len(owners) == 0 || owners[len(owners)-1].PID != pid {
				s.tables[k][id] = append(owners, Owner{PID: pid, Comm: comm})
			}
			return
		}
	})
}

// fdinfoID reads the number after key in the fdinfo file fd (a
// NUL-terminated name) of the directory dir.
func (s *ownerScan) fdinfoID(dir int, fd []byte, key string) (uint32, bool) {
	n := readFileAt(dir, fd, s.info[:])
	if n <= 0 {
		return 0, false
	}
	data := s.info[:n]
	i := bytes.Index(data, []byte("\n"+key))
	if i < 0 {
		return 0, false
	}
	data = bytes.TrimLeft(data[i+1+len(key):], " \t")
	if end := bytes.IndexByte(data, '\n'); end >= 0 {
		data = data[:end]
	}
	id, ok := atoi(data)
	return uint32(id), ok && id <= 1<<32-1
}

// readComm reads a process's command name.
func (s *ownerScan) readComm(procfd int, name []byte) string {
	path := append(append(s.path[:0], name...), "/comm\x00"...)
	n := readFileAt(procfd, path, s.buf[:])
	if n <= 0 {
		return ""
	}
	return string(bytes.TrimSuffix(s.buf[:n], []byte("\n")))
}

// atoi parses a non-negative decimal number.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// The file system calls of the scan take NUL-terminated names as byte
// slices, so that no call allocates a C string.

func openDir(dir int, name []byte) (int, error) {
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(&name[0])),
		unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// readFileAt reads the start of the file name in dir into buf; -1 on
// failure.
func readFileAt(dir int, name, buf []byte) int {
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(&name[0])),
		unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if errno != 0 {
		return -1
	}
	n, err := unix.Read(int(fd), buf)
	unix.Close(int(fd))
	if err != nil {
		return -1
	}
	return n
}

// readlinkat reads the symbolic link name in dir into buf and returns
// its length, 0 on failure.
func readlinkat(dir int, name, buf []byte) int {
	n, _, errno := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dir), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if errno != 0 {
		return 0
	}
	return int(n)
}

// eachDirent calls fn with the name of every entry of the directory dir
// but "." and "..", NUL-terminated (the NUL is in the slice's capacity,
// not its length) and valid only during the call.
func eachDirent(dir int, buf []byte, fn func(name []byte)) error {
	for {
		n, err := unix.Getdents(dir, buf)
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for off := 0; off < n; {
			// struct linux_dirent64: ino, off, reclen, type, name.
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			name := buf[off+19 : off+reclen]
			if end := bytes.IndexByte(name, 0); end >= 0 {
				name = name[: end : end+1]
			}
			if !(len(name) == 1 && name[0] == '.' || len(name) == 2 && name[0] == '.' && name[1] == '.') {
				fn(name)
			}
			off += reclen
		}
	}
}
