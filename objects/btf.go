package objects

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BTFInfo describes a BTF object loaded in the kernel with the fields of
// `bpftool btf show`, in bpftool's JSON order. ProgIDs and MapIDs are the
// programs and maps whose BTF it is, sorted; they are always present in
// JSON, as in bpftool.
type BTFInfo struct {
	ID      uint32   `json:"id"`
	Size    uint32   `json:"size"`
	ProgIDs []uint32 `json:"prog_ids"`
	MapIDs  []uint32 `json:"map_ids"`
	Kernel  bool     `json:"kernel"`
	Name    string   `json:"name,omitempty"`
}

// IsVmlinux reports whether the object is the kernel's own BTF.
func (b *BTFInfo) IsVmlinux() bool { return b.Kernel && b.Name == "vmlinux" }

// IsModule reports whether the object is a kernel module's BTF, which is
// split BTF on top of vmlinux.
func (b *BTFInfo) IsModule() bool { return b.Kernel && b.Name != "vmlinux" }

// openBTF opens the BTF object id.
func openBTF(id uint32) (int, error) {
	fd, err := getFDByID(unix.BPF_BTF_GET_FD_BY_ID, id)
	if err != nil {
		return -1, fmt.Errorf("can't get BTF object by id (%d): %w", id, PermissionHint(err))
	}
	return fd, nil
}

// ListBTF describes the BTF object id, or every BTF object when id is 0,
// with the programs and maps that use each.
func ListBTF(id uint32) ([]*BTFInfo, error) {
	var ids []uint32
	if id != 0 {
		ids = []uint32{id}
	} else if err := eachID(unix.BPF_BTF_GET_NEXT_ID, "BTF object", func(n uint32) error {
		ids = append(ids, n)
		return nil
	}); err != nil {
		return nil, err
	}
	progs, maps, err := btfUsers()
	if err != nil {
		return nil, err
	}
	objs := make([]*BTFInfo, 0, len(ids))
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
		objs = append(objs, &BTFInfo{
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
	err = eachFD(unix.BPF_PROG_GET_NEXT_ID, unix.BPF_PROG_GET_FD_BY_ID, "program", func(fd int) {
		if info, err := progInfoRaw(fd); info != nil && (err == nil || errors.Is(err, unix.ENODEV)) && info.BTFID != 0 {
			progs[info.BTFID] = append(progs[info.BTFID], info.ID)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	err = eachFD(unix.BPF_MAP_GET_NEXT_ID, unix.BPF_MAP_GET_FD_BY_ID, "map", func(fd int) {
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

// eachFD calls fn with a file descriptor of every object that the
// GET_NEXT_ID command nextCmd walks and getCmd opens; objects that vanish
// are skipped.
func eachFD(nextCmd, getCmd uintptr, noun string, fn func(fd int)) error {
	return eachID(nextCmd, noun, func(id uint32) error {
		fd, err := getFDByID(getCmd, id)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("open %s %d: %w", noun, id, PermissionHint(err))
		}
		fn(fd)
		unix.Close(fd)
		return nil
	})
}

// BTFData returns the raw BTF blob of the BTF object id and describes the
// object (without its users). Module BTF is split BTF: parse it on top of
// vmlinux.
func BTFData(id uint32) ([]byte, *BTFInfo, error) {
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
	obj := &BTFInfo{ID: info.ID, Size: info.BTFSize, Kernel: info.KernelBTF != 0, Name: name,
		ProgIDs: []uint32{}, MapIDs: []uint32{}}
	return data, obj, nil
}
