package objects

// The raw bpf(2) calls that cilium/ebpf does not expose, or that listings
// make without cilium/ebpf handles: the gpl flag and attach BTF ids of
// programs, the key/value BTF type ids of maps, the target of iterator
// links, and the lookup of a program's metadata. Each call gets a zeroed struct: since Linux 6.18
// the kernel copies the caller's buffer in first and echoes back fields it
// does not set (bpftool's stale btf_id in `map list`).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawProgInfo mirrors struct bpf_prog_info (include/uapi/linux/bpf.h).
type rawProgInfo struct {
	Type                 uint32
	ID                   uint32
	Tag                  [8]byte
	JitedProgLen         uint32
	XlatedProgLen        uint32
	JitedProgInsns       unsafe.Pointer
	XlatedProgInsns      unsafe.Pointer
	LoadTime             uint64
	CreatedByUID         uint32
	NrMapIDs             uint32
	MapIDs               unsafe.Pointer
	Name                 [16]byte
	Ifindex              uint32
	Flags                uint32 // bit 0: gpl_compatible
	NetnsDev             uint64
	NetnsIno             uint64
	NrJitedKsyms         uint32
	NrJitedFuncLens      uint32
	JitedKsyms           unsafe.Pointer
	JitedFuncLens        unsafe.Pointer
	BTFID                uint32
	FuncInfoRecSize      uint32
	FuncInfo             unsafe.Pointer
	NrFuncInfo           uint32
	NrLineInfo           uint32
	LineInfo             unsafe.Pointer
	JitedLineInfo        unsafe.Pointer
	NrJitedLineInfo      uint32
	LineInfoRecSize      uint32
	JitedLineInfoRecSize uint32
	NrProgTags           uint32
	ProgTags             unsafe.Pointer
	RunTimeNs            uint64
	RunCnt               uint64
	RecursionMisses      uint64
	VerifiedInsns        uint32
	AttachBTFObjID       uint32
	AttachBTFID          uint32
	_                    uint32
}

// rawMapInfo mirrors struct bpf_map_info.
type rawMapInfo struct {
	Type                  uint32
	ID                    uint32
	KeySize               uint32
	ValueSize             uint32
	MaxEntries            uint32
	MapFlags              uint32
	Name                  [16]byte
	Ifindex               uint32
	BTFVmlinuxValueTypeID uint32
	NetnsDev              uint64
	NetnsIno              uint64
	BTFID                 uint32
	BTFKeyTypeID          uint32
	BTFValueTypeID        uint32
	BTFVmlinuxID          uint32
	MapExtra              uint64
	Hash                  uint64
	HashSize              uint32
	_                     uint32
}

// rawBTFInfo mirrors struct bpf_btf_info.
type rawBTFInfo struct {
	BTF       unsafe.Pointer
	BTFSize   uint32
	ID        uint32
	Name      unsafe.Pointer
	NameLen   uint32
	KernelBTF uint32
}

// rawLinkInfo mirrors struct bpf_link_info: the common fields, then the
// union of the type-specific ones, read with u32 and u64 at their offsets
// in the union.
type rawLinkInfo struct {
	Type   uint32
	ID     uint32
	ProgID uint32
	_      uint32
	union  [64]byte
}

func (r *rawLinkInfo) u32(off int) uint32 { return binary.NativeEndian.Uint32(r.union[off:]) }
func (r *rawLinkInfo) u64(off int) uint64 { return binary.NativeEndian.Uint64(r.union[off:]) }

// setPointer sets the buffer pointer at offset off of the union and its
// length right after it, as every in/out name field of the union is laid
// out. The buffer must not be on a stack: the pointer is stored as a
// number, which the garbage collector does not see.
func (r *rawLinkInfo) setPointer(off int, p unsafe.Pointer, n int) {
	binary.NativeEndian.PutUint64(r.union[off:], uint64(uintptr(p)))
	binary.NativeEndian.PutUint32(r.union[off+8:], uint32(n))
}

// objInfo issues BPF_OBJ_GET_INFO_BY_FD for fd into info, a pointer to one of
// the raw structs above.
func objInfo(fd int, info unsafe.Pointer, size uintptr) error {
	attr := struct {
		FD      uint32
		InfoLen uint32
		Info    unsafe.Pointer
	}{FD: uint32(fd), InfoLen: uint32(size), Info: info}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_OBJ_GET_INFO_BY_FD,
		uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return fmt.Errorf("get object info: %w", errno)
	}
	return nil
}

// progInfoRaw returns the program's info. On ENODEV (an offloaded program
// whose device is gone) the kernel has filled in the rest, so the info comes
// back with the error.
func progInfoRaw(fd int) (*rawProgInfo, error) {
	var info rawProgInfo
	err := objInfo(fd, unsafe.Pointer(&info), unsafe.Sizeof(info))
	if err != nil && !errors.Is(err, unix.ENODEV) {
		return nil, err
	}
	return &info, err
}

// progFuncInfos returns n func info records (insn_off, type_id pairs).
func progFuncInfos(fd int, n uint32) ([]uint32, error) {
	recs := make([]uint32, 2*n)
	var info rawProgInfo
	info.NrFuncInfo = n
	info.FuncInfoRecSize = 8
	info.FuncInfo = unsafe.Pointer(&recs[0])
	if err := objInfo(fd, unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
		return nil, err
	}
	if info.FuncInfoRecSize != 8 {
		return nil, fmt.Errorf("func info record size %d", info.FuncInfoRecSize)
	}
	return recs[:2*min(n, info.NrFuncInfo)], nil
}

// progInfoWithMaps returns the program's info and the ids of the maps it
// uses, in one call when ids has room for them (else in a new array).
func progInfoWithMaps(fd int, ids []uint32) (*rawProgInfo, []uint32, error) {
	for {
		info := rawProgInfo{NrMapIDs: uint32(len(ids))}
		if len(ids) > 0 {
			info.MapIDs = unsafe.Pointer(&ids[0])
		}
		err := objInfo(fd, unsafe.Pointer(&info), unsafe.Sizeof(info))
		runtime.KeepAlive(ids)
		if err != nil && !errors.Is(err, unix.ENODEV) {
			return nil, nil, err
		}
		if int(info.NrMapIDs) <= len(ids) {
			info.MapIDs = nil
			return &info, ids[:info.NrMapIDs], err
		}
		ids = make([]uint32, info.NrMapIDs)
	}
}

// nextID returns the id after id that the GET_NEXT_ID command cmd
// (BPF_PROG_GET_NEXT_ID and its map, link and BTF twins) walks.
func nextID(cmd uintptr, id uint32) (uint32, error) {
	attr := struct {
		StartID, NextID, OpenFlags uint32
	}{StartID: id}
	_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return 0, errno
	}
	return attr.NextID, nil
}

// getFDByID opens the object with id: cmd is BPF_PROG_GET_FD_BY_ID,
// BPF_MAP_GET_FD_BY_ID or BPF_LINK_GET_FD_BY_ID.
func getFDByID(cmd uintptr, id uint32) (int, error) {
	attr := struct {
		ID, NextID, OpenFlags uint32
	}{ID: id}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func mapInfoRaw(fd int) (*rawMapInfo, error) {
	var info rawMapInfo
	if err := objInfo(fd, unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
		return nil, err
	}
	return &info, nil
}

// btfInfoRaw returns the BTF object's info and its name.
func btfInfoRaw(fd int) (*rawBTFInfo, string, error) {
	name := make([]byte, 256)
	info := rawBTFInfo{Name: unsafe.Pointer(&name[0]), NameLen: uint32(len(name))}
	err := objInfo(fd, unsafe.Pointer(&info), unsafe.Sizeof(info))
	runtime.KeepAlive(name)
	if err != nil {
		return nil, "", err
	}
	return &info, unix.ByteSliceToString(name), nil
}

// mapLookupRaw looks key up in the map behind fd into value, which must
// hold the map's value size.
func mapLookupRaw(fd int, key unsafe.Pointer, value []byte) error {
	attr := struct {
		FD    uint32
		_     uint32
		Key   unsafe.Pointer
		Value unsafe.Pointer
		Flags uint64
	}{FD: uint32(fd), Key: key, Value: unsafe.Pointer(unsafe.SliceData(value))}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_LOOKUP_ELEM, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(value)
	if errno != 0 {
		return fmt.Errorf("map lookup: %w", errno)
	}
	return nil
}

// clen is the length of the NUL-terminated string in b.
func clen(b []byte) int {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return i
	}
	return len(b)
}

// ProgQueryResult is what BPF_PROG_QUERY says of one hook: the programs
// attached there, in order, with the flags each was attached with and the
// links that hold them (mprog hooks: tcx, netkit).
type ProgQueryResult struct {
	// AttachFlags are the hook's flags (legacy cgroup attachments).
	AttachFlags uint32
	ProgIDs     []uint32
	ProgFlags   []uint32
	LinkIDs     []uint32
	LinkFlags   []uint32
	Revision    uint64
}

// rawProgQuery mirrors the query member of union bpf_attr.
type rawProgQuery struct {
	TargetFD        uint32
	AttachType      uint32
	QueryFlags      uint32
	AttachFlags     uint32
	ProgIDs         unsafe.Pointer
	Count           uint32
	_               uint32
	ProgAttachFlags unsafe.Pointer
	LinkIDs         unsafe.Pointer
	LinkAttachFlags unsafe.Pointer
	Revision        uint64
}

// ProgQuery issues BPF_PROG_QUERY for the programs attached at target (a
// cgroup or netns file descriptor, or an ifindex for tcx and netkit) with
// attach type typ. flags is 0 or BPF_F_QUERY_EFFECTIVE (1).
func ProgQuery(target int, typ uint32, flags uint32) (*ProgQueryResult, error) {
	n := uint32(16)
	for {
		ids := make([]uint32, n)
		pflags := make([]uint32, n)
		links := make([]uint32, n)
		lflags := make([]uint32, n)
		// Only mprog hooks (Linux 6.6) fill link ids; older kernels refuse
		// the fields they do not know with EINVAL, effective queries take
		// no per-program flags, and hooks before Linux 6.0 none either:
		// ask again with less until the kernel answers.
		attrs := []rawProgQuery{
			{ProgAttachFlags: unsafe.Pointer(&pflags[0]), LinkIDs: unsafe.Pointer(&links[0]), LinkAttachFlags: unsafe.Pointer(&lflags[0])},
			{ProgAttachFlags: unsafe.Pointer(&pflags[0])},
			{},
		}
		var withLinks rawProgQuery
		var errno unix.Errno
		for _, a := range attrs {
			a.TargetFD, a.AttachType, a.QueryFlags, a.ProgIDs, a.Count = uint32(target), typ, flags, unsafe.Pointer(&ids[0]), n
			withLinks = a
			_, _, errno = unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_QUERY, uintptr(unsafe.Pointer(&withLinks)), unsafe.Sizeof(withLinks))
			if errno != unix.EINVAL {
				break
			}
		}
		runtime.KeepAlive(ids)
		runtime.KeepAlive(pflags)
		runtime.KeepAlive(links)
		runtime.KeepAlive(lflags)
		if errno == unix.ENOSPC && withLinks.Count > n {
			n = withLinks.Count
			continue
		}
		if errno != 0 {
			return nil, errno
		}
		c := min(withLinks.Count, n)
		return &ProgQueryResult{AttachFlags: withLinks.AttachFlags, ProgIDs: ids[:c], ProgFlags: pflags[:c],
			LinkIDs: links[:c], LinkFlags: lflags[:c], Revision: withLinks.Revision}, nil
	}
}

// ProgDetach issues BPF_PROG_DETACH of attach type typ at target. progFD
// is the program to detach, or 0 where the hook takes none (xdp-less
// legacy hooks, the last program of a tcx hook).
func ProgDetach(target, progFD int, typ uint32) error {
	attr := struct {
		Target, AttachBPFFD, AttachType, AttachFlags, ReplaceBPFFD, RelativeFD uint32
		ExpectedRevision                                                       uint64
	}{Target: uint32(target), AttachBPFFD: uint32(progFD), AttachType: typ}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_DETACH, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return errno
	}
	return nil
}

// TaskFDInfo is what BPF_TASK_FD_QUERY says of a process's file descriptor
// that holds a BPF program on a perf event or raw tracepoint.
type TaskFDInfo struct {
	ProgID uint32
	// FDType is enum bpf_task_fd_type: raw_tracepoint (0), tracepoint,
	// kprobe, kretprobe, uprobe, uretprobe (5).
	FDType uint32
	// Name is the tracepoint, the kprobe's function or the uprobe's file.
	Name        string
	ProbeOffset uint64
	ProbeAddr   uint64
}

// TaskFDQuery issues BPF_TASK_FD_QUERY for file descriptor fd of process
// pid. It fails (ENOENT, ENOTSUPP, EBADF) for descriptors that hold no
// attached program.
func TaskFDQuery(pid, fd int, buf []byte) (*TaskFDInfo, error) {
	attr := struct {
		PID, FD, Flags, BufLen uint32
		Buf                    unsafe.Pointer
		ProgID, FDType         uint32
		ProbeOffset, ProbeAddr uint64
	}{PID: uint32(pid), FD: uint32(fd), BufLen: uint32(len(buf)), Buf: unsafe.Pointer(&buf[0])}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_TASK_FD_QUERY, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(buf)
	if errno != 0 {
		return nil, errno
	}
	return &TaskFDInfo{ProgID: attr.ProgID, FDType: attr.FDType, Name: unix.ByteSliceToString(buf),
		ProbeOffset: attr.ProbeOffset, ProbeAddr: attr.ProbeAddr}, nil
}

// MapInfoBytes returns the kernel's struct bpf_map_info of the map open at
// fd as the kernel wrote it, size bytes long (the kernel's own size of the
// struct, from its BTF, so that fields newer than bpfkit come along).
func MapInfoBytes(fd int, size int) ([]byte, error) {
	buf := make([]byte, max(size, int(unsafe.Sizeof(rawMapInfo{}))))
	if err := objInfo(fd, unsafe.Pointer(&buf[0]), uintptr(len(buf))); err != nil {
		return nil, err
	}
	return buf[:size], nil
}

// StructOpsLinkMapID returns the struct_ops map of the struct_ops link
// open at fd (cilium/ebpf's link info leaves it out).
func StructOpsLinkMapID(fd int) (uint32, error) {
	var info struct {
		Type, ID, ProgID, _ uint32
		MapID               uint32
		_                   [92]byte // the rest of the largest union member
	}
	if err := objInfo(fd, unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
		return 0, err
	}
	return info.MapID, nil
}

// progLoadAttr mirrors the BPF_PROG_LOAD part of union bpf_attr up to
// expected_attach_type (64-bit: the __aligned_u64 pointers are
// unsafe.Pointer, so that the runtime keeps what they point to where it
// is, or moves the pointers with it).
type progLoadAttr struct {
	ProgType           uint32
	InsnCnt            uint32
	Insns              unsafe.Pointer
	License            unsafe.Pointer
	LogLevel           uint32
	LogSize            uint32
	LogBuf             unsafe.Pointer
	KernVersion        uint32
	ProgFlags          uint32
	ProgName           [16]byte
	ProgIfindex        uint32
	ExpectedAttachType uint32
}

// RawProgram is a program for LoadRaw: instructions already marshalled
// (8 bytes each, map fds in place) and the load attributes the kernel
// needs of its type.
type RawProgram struct {
	Type, AttachType, Flags, Ifindex uint32
	Insns                            []byte
	License                          string
	// LogLevel is the verifier log's level when LoadRaw has a log
	// buffer (1 when zero).
	LogLevel uint32
}

// LoadRaw loads p only to see whether the kernel takes it, closes the
// program if it did, and returns the kernel's answer. When log is not
// empty the verifier writes its log there (NUL-terminated; the kernel's
// rotating log keeps the tail of a longer one). The verifier gives up
// with EAGAIN when a signal is pending, and the Go runtime signals its
// threads (preemption, GC): then it loads again, as libbpf does.
func LoadRaw(p RawProgram, log []byte) error {
	if len(p.Insns) == 0 || len(p.Insns)%8 != 0 {
		return fmt.Errorf("%d bytes are not BPF instructions", len(p.Insns))
	}
	lic := append([]byte(p.License), 0)
	attr := progLoadAttr{
		ProgType: p.Type, InsnCnt: uint32(len(p.Insns) / 8), Insns: unsafe.Pointer(&p.Insns[0]),
		License: unsafe.Pointer(&lic[0]), ProgFlags: p.Flags, ProgIfindex: p.Ifindex,
		ExpectedAttachType: p.AttachType,
	}
	if len(log) > 0 {
		attr.LogLevel, attr.LogSize = max(p.LogLevel, 1), uint32(len(log))
		attr.LogBuf = unsafe.Pointer(&log[0])
	}
	for try := 0; ; try++ {
		if len(log) > 0 {
			log[0] = 0
		}
		fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		runtime.KeepAlive(p.Insns)
		runtime.KeepAlive(lic)
		runtime.KeepAlive(log)
		if errno == unix.EAGAIN && try < 10 {
			continue
		}
		if errno != 0 {
			return errno
		}
		return unix.Close(int(fd))
	}
}

// VerifierLog is the text of a log buffer LoadRaw wrote.
func VerifierLog(log []byte) string { return string(log[:clen(log)]) }
