package objects

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BTFObject describes a BTF object loaded in the kernel with the fields of
// `bpftool btf show`, in bpftool's JSON order. ProgIDs and MapIDs are the
// programs and maps whose BTF it is, sorted; they are always present in
// JSON, as in bpftool.
type BTFObject struct {
	ID      uint32   `json:"id"`
	Size    uint32   `json:"size"`
	ProgIDs []uint32 `json:"prog_ids"`
	MapIDs  []uint32 `json:"map_ids"`
	Kernel  bool     `json:"kernel"`
	Name    string   `json:"name,omitempty"`
}

// IsVmlinux reports whether the object is the kernel's own BTF.
func (b *BTFObject) IsVmlinux() bool { return b.Kernel && b.Name == "vmlinux" }

// IsModule reports whether the object is a kernel module's BTF, which is
// split BTF on top of vmlinux.
func (b *BTFObject) IsModule() bool { return b.Kernel && b.Name != "vmlinux" }

// btfNextID returns the BTF object ID after id (BPF_BTF_GET_NEXT_ID).
func btfNextID(id uint32) (uint32, error) {
	attr := struct {
		StartID, NextID, OpenFlags uint32
	}{StartID: id}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_BTF_GET_NEXT_ID,
		uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return 0, errno
	}
	return attr.NextID, nil
}

// openBTF opens the BTF object id.
func openBTF(id uint32) (int, error) {
	fd, err := getFDByID(unix.BPF_BTF_GET_FD_BY_ID, id)
	if err != nil {
		return -1, fmt.Errorf("can't get BTF object by id (%d): %w", id, PermissionHint(err))
	}
	return fd, nil
}

// BTFObjects describes the BTF object id, or every BTF object when id is
// 0, with the programs and maps that use each.
func BTFObjects(id uint32) ([]*BTFObject, error) {
	var ids []uint32
	if id != 0 {
		ids = []uint32{id}
	} else {
		for next := uint32(0); ; {
			n, err := btfNextID(next)
			if errors.Is(err, unix.ENOENT) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("get next BTF object id: %w", PermissionHint(err))
			}
			ids = append(ids, n)
			next = n
		}
	}
	progs, maps, err := btfUsers()
	if err != nil {
		return nil, err
	}
	objs := make([]*BTFObject, 0, len(ids))
	for _, i := range ids {
		fd, err := openBTF(i)
		if err != nil {
			if id == 0 && errors.Is(err, unix.ENOENT) {
				continue // it went away
			}
			return nil, err
		}
		info, name, err := btfInfoRaw(fd)
		unix.Close(fd)
		if err != nil {
			return nil, fmt.Errorf("get BTF object info: %w", err)
		}
		objs = append(objs, &BTFObject{
			ID:      info.ID,
			Size:    info.BTFSize,
			ProgIDs: nonNil(progs[info.ID]),
			MapIDs:  nonNil(maps[info.ID]),
			Kernel:  info.KernelBTF != 0,
			Name:    name,
		})
	}
	return objs, nil
}

func nonNil(ids []uint32) []uint32 {
	if ids == nil {
		return []uint32{}
	}
	return ids
}

// btfUsers maps BTF object IDs to the sorted IDs of the programs and maps
// that carry that BTF.
func btfUsers() (progs, maps map[uint32][]uint32, err error) {
	progs = map[uint32][]uint32{}
	maps = map[uint32][]uint32{}
	err = eachObject(unix.BPF_PROG_GET_NEXT_ID, unix.BPF_PROG_GET_FD_BY_ID, func(fd int) {
		if info, err := progInfoRaw(fd); info != nil && (err == nil || errors.Is(err, unix.ENODEV)) && info.BTFID != 0 {
			progs[info.BTFID] = append(progs[info.BTFID], info.ID)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	err = eachObject(unix.BPF_MAP_GET_NEXT_ID, unix.BPF_MAP_GET_FD_BY_ID, func(fd int) {
		if info, err := mapInfoRaw(fd); err == nil && info.BTFID != 0 {
			maps[info.BTFID] = append(maps[info.BTFID], info.ID)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	for _, m := range []map[uint32][]uint32{progs, maps} {
		for _, ids := range m {
			slices.Sort(ids)
		}
	}
	return progs, maps, nil
}

// eachObject calls fn with an fd of every object that the next-id command
// nextCmd enumerates and getCmd opens; objects that vanish are skipped.
func eachObject(nextCmd, getCmd uintptr, fn func(fd int)) error {
	for id := uint32(0); ; {
		attr := struct {
			StartID, NextID, OpenFlags uint32
		}{StartID: id}
		_, _, errno := unix.Syscall(unix.SYS_BPF, nextCmd, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		if errno == unix.ENOENT {
			return nil
		}
		if errno != 0 {
			return fmt.Errorf("get next object id: %w", PermissionHint(errno))
		}
		id = attr.NextID
		fd, err := getFDByID(getCmd, id)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("open object %d: %w", id, PermissionHint(err))
		}
		fn(fd)
		unix.Close(fd)
	}
}

// BTFData returns the raw BTF blob of the BTF object id and describes the
// object (without its users). Module BTF is split BTF: parse it on top of
// vmlinux.
func BTFData(id uint32) ([]byte, *BTFObject, error) {
	fd, err := openBTF(id)
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(fd)
	info, name, err := btfInfoRaw(fd)
	if err != nil {
		return nil, nil, fmt.Errorf("get BTF object info: %w", err)
	}
	data := make([]byte, info.BTFSize)
	if len(data) > 0 {
		raw := rawBTFInfo{BTF: unsafe.Pointer(&data[0]), BTFSize: uint32(len(data))}
		err = objInfo(fd, unsafe.Pointer(&raw), unsafe.Sizeof(raw))
		runtime.KeepAlive(data)
		if err != nil {
			return nil, nil, fmt.Errorf("get BTF data: %w", err)
		}
		data = data[:min(uint32(len(data)), raw.BTFSize)]
	}
	obj := &BTFObject{ID: info.ID, Size: info.BTFSize, Kernel: info.KernelBTF != 0, Name: name,
		ProgIDs: []uint32{}, MapIDs: []uint32{}}
	return data, obj, nil
}
