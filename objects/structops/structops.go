package structops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/loader"
)

// valuePrefix starts the names of the kernel's struct_ops value types.
const valuePrefix = "bpf_struct_ops_"

// Map is a struct_ops map with the kernel struct it implements.
type Map struct {
	ID   uint32
	Name string
	// KernelStructOps is the kernel struct, e.g. "tcp_congestion_ops".
	KernelStructOps string
	// Info is the map's description; ValueType the kernel's type of its
	// value (bpf_struct_ops_tcp_congestion_ops).
	Info      *objects.MapInfo
	ValueType ebpfbtf.Type
}

// Dump is a struct_ops map's info and value, as `struct_ops dump` shows
// them, with the types that lay them out and the names of the programs
// its function pointers hold.
type Dump struct {
	Map
	// InfoBytes is the kernel's struct bpf_map_info of the map, laid out
	// as InfoType.
	InfoBytes []byte
	InfoType  ebpfbtf.Type
	Value     []byte
	// Programs names the programs in the value by id.
	Programs map[uint32]string
}

// kernel is the kernel's BTF, loaded once per command.
func kernel() (*ebpfbtf.Spec, error) {
	spec, err := ebpfbtf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("struct_ops requires kernel CONFIG_DEBUG_INFO_BTF=y: %w", err)
	}
	return spec, nil
}

// List returns the struct_ops maps sel selects (every one when sel
// selects all). A selector that names another kind of map is an error.
func List(sel objects.Selector) ([]Map, error) {
	spec, err := kernel()
	if err != nil {
		return nil, err
	}
	infos, err := objects.Maps.List(sel)
	if err != nil {
		return nil, err
	}
	var out []Map
	for _, info := range infos {
		if info.Type.Value != uint32(ebpf.StructOpsMap) {
			if sel.Unique() {
				return nil, fmt.Errorf("%s id %d is not a struct_ops map", info.Name, info.ID)
			}
			continue
		}
		m := Map{ID: info.ID, Name: info.Name, Info: info, KernelStructOps: "<btf_vmlinux_not_found>"}
		if t, err := spec.TypeByID(ebpfbtf.TypeID(info.BTFVmlinuxValueTypeID)); err == nil {
			m.ValueType = t
			m.KernelStructOps = strings.TrimPrefix(t.TypeName(), valuePrefix)
		}
		out = append(out, m)
	}
	if len(out) == 0 && !sel.All() {
		return nil, fmt.Errorf("no struct_ops found for %s", sel.Value)
	}
	return out, nil
}

// Dumps reads the info and value of the struct_ops maps sel selects.
func Dumps(sel objects.Selector) ([]Dump, error) {
	maps, err := List(sel)
	if err != nil {
		return nil, err
	}
	spec, err := kernel()
	if err != nil {
		return nil, err
	}
	var infoType *ebpfbtf.Struct
	if err := spec.TypeByName("bpf_map_info", &infoType); err != nil {
		return nil, fmt.Errorf("can't find bpf_map_info in the kernel's BTF: %w", err)
	}
	out := make([]Dump, 0, len(maps))
	for _, m := range maps {
		d, err := dump(m, infoType)
		if errors.Is(err, os.ErrNotExist) && sel.All() {
			continue // gone meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}

func dump(m Map, infoType *ebpfbtf.Struct) (*Dump, error) {
	em, err := ebpf.NewMapFromID(ebpf.MapID(m.ID))
	if err != nil {
		return nil, fmt.Errorf("can't get map by id (%d): %w", m.ID, err)
	}
	defer em.Close()
	info, err := objects.MapInfoBytes(em.FD(), int(infoType.Size))
	if err != nil {
		return nil, fmt.Errorf("can't get map info: %w", err)
	}
	value := make([]byte, m.Info.BytesValue)
	if err := em.Lookup(uint32(0), &value); err != nil {
		return nil, fmt.Errorf("can't lookup struct_ops map %s id %d: %w", m.Name, m.ID, err)
	}
	d := &Dump{Map: m, InfoBytes: info, InfoType: infoType, Value: value, Programs: map[uint32]string{}}
	if m.ValueType != nil {
		for _, id := range programIDs(m.ValueType, value) {
			if p, err := objects.Programs.DescribeOne(objects.Selector{Kind: objects.SelectID, ID: id}); err == nil {
				d.Programs[id] = p.Name
			}
		}
	}
	return d, nil
}

// programIDs returns the values of the function pointers in value, laid
// out as t: the ids of the programs a struct_ops map holds.
func programIDs(t ebpfbtf.Type, value []byte) []uint32 {
	var ids []uint32
	var walk func(t ebpfbtf.Type, off uint32, depth int)
	walk = func(t ebpfbtf.Type, off uint32, depth int) {
		if depth > 16 {
			return
		}
		switch v := ebpfbtf.UnderlyingType(t).(type) {
		case *ebpfbtf.Struct:
			for _, m := range v.Members {
				walk(m.Type, off+m.Offset.Bytes(), depth+1)
			}
		case *ebpfbtf.Pointer:
			if _, ok := ebpfbtf.UnderlyingType(v.Target).(*ebpfbtf.FuncProto); ok && int(off)+8 <= len(value) {
				lo := uint64(value[off]) | uint64(value[off+1])<<8 | uint64(value[off+2])<<16 | uint64(value[off+3])<<24
				hi := uint64(value[off+4]) | uint64(value[off+5])<<8 | uint64(value[off+6])<<16 | uint64(value[off+7])<<24
				if v := lo | hi<<32; v != 0 && v <= 0xffffffff {
					ids = append(ids, uint32(v))
				}
			}
		}
	}
	walk(t, 0, 0)
	return ids
}

// Registered is a struct_ops map that Register registered.
type Registered struct {
	KernelStructOps, Name string
	MapID, LinkID         uint32
	// Pinned is where its link is pinned ("" for maps without links).
	Pinned string
}

// Register loads the object file at path and registers each of its
// struct_ops maps with its kernel subsystem, as bpftool's `struct_ops
// register` does; the links of .struct_ops.link maps are pinned in
// linkDir as the map's name (without linkDir they end with the command,
// and so does the registration). On a failure nothing stays registered,
// and neither does anything when ctx is done before Register returns
// (ctx's cause is returned, checked between kernel calls).
func Register(ctx context.Context, path, linkDir string) (_ []Registered, err error) {
	obj, err := loader.Open(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range obj.Maps {
		if obj.Spec.Maps[name].Type == ebpf.StructOpsMap {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no struct_ops found in %s", path)
	}
	if linkDir != "" {
		made, merr := makePinDir(linkDir)
		if merr != nil {
			return nil, merr
		}
		if made {
			defer func() {
				if err != nil {
					os.Remove(linkDir)
				}
			}()
		}
		for _, name := range names {
			// Links are pinned under the kernel's name of their map.
			if err := objects.CheckPinPath(filepath.Join(linkDir, name[:min(len(name), 15)])); err != nil {
				return nil, err
			}
		}
	}
	kspec, err := kernel()
	if err != nil {
		return nil, err
	}
	loaded, err := loader.LoadContext(ctx, obj, loader.LoadOptions{})
	if err != nil {
		return nil, err
	}
	var pins []string
	defer func() {
		if err != nil {
			for _, p := range pins {
				os.Remove(p)
			}
			loaded.Unload()
		} else {
			loaded.Close()
		}
	}()
	var out []Registered
	for _, name := range names {
		if err := loader.Stopped(ctx); err != nil {
			return nil, err
		}
		m := loaded.Collection.Maps[name]
		info, err := objects.DescribeMap(m)
		if err != nil {
			return nil, err
		}
		r := Registered{Name: info.Name, MapID: info.ID}
		if t, err := kspec.TypeByID(ebpfbtf.TypeID(info.BTFVmlinuxValueTypeID)); err == nil {
			r.KernelStructOps = strings.TrimPrefix(t.TypeName(), valuePrefix)
		}
		if info.Flags&unix.BPF_F_LINK == 0 {
			out = append(out, r) // registered when it was loaded
			continue
		}
		l, err := link.AttachStructOps(link.StructOpsOptions{Map: m})
		if errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("can't register struct_ops %s: a %s of that name is registered already: %w", name, r.KernelStructOps, unix.EEXIST)
		}
		if err != nil {
			return nil, fmt.Errorf("can't register struct_ops %s: %w", name, objects.PermissionHint(err))
		}
		defer l.Close()
		linfo, err := l.Info()
		if err != nil {
			return nil, fmt.Errorf("registered %s but can't find link id: %w", name, err)
		}
		r.LinkID = uint32(linfo.ID)
		if linkDir != "" {
			p := filepath.Join(linkDir, info.Name)
			if err := objects.CheckPinPath(p); err != nil {
				return nil, fmt.Errorf("can't pin link %d for %s: %w", r.LinkID, info.Name, err)
			}
			if err := l.Pin(p); err != nil {
				return nil, fmt.Errorf("can't pin link %d for %s: %w", r.LinkID, info.Name, err)
			}
			pins = append(pins, p)
			r.Pinned = p
		}
		out = append(out, r)
	}
	if err := loader.Stopped(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// makePinDir makes dir on a bpffs unless it exists, as bpftool makes a
// LINK_DIR; made says whether it did.
func makePinDir(dir string) (made bool, err error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) && objects.IsBPFFS(filepath.Dir(dir)) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return false, fmt.Errorf("pin directory %s: %w", dir, err)
		}
		return true, nil
	}
	return false, objects.CheckPinDir(dir)
}

// Unregister unregisters the struct_ops maps sel selects: it deletes the
// value of maps registered without a link, as bpftool does, and detaches
// the links of the others, which bpftool cannot do (their pins stay,
// defunct, until removed).
func Unregister(sel objects.Selector) ([]Map, error) {
	maps, err := List(sel)
	if err != nil {
		return nil, err
	}
	for _, m := range maps {
		if m.Info.Flags&unix.BPF_F_LINK != 0 {
			if err := detachLinks(m); err != nil {
				return nil, err
			}
			continue
		}
		em, err := ebpf.NewMapFromID(ebpf.MapID(m.ID))
		if err != nil {
			return nil, fmt.Errorf("can't get map by id (%d): %w", m.ID, err)
		}
		err = em.Delete(uint32(0))
		em.Close()
		if err != nil {
			return nil, fmt.Errorf("can't unload %s %s id %d: %w", m.KernelStructOps, m.Name, m.ID, err)
		}
	}
	return maps, nil
}

// detachLinks detaches the struct_ops links of m.
func detachLinks(m Map) error {
	found := false
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil || info.Type != link.StructOpsType {
			continue
		}
		fd, ok := it.Link.(interface{ FD() int })
		if !ok {
			continue
		}
		if id, err := objects.StructOpsLinkMapID(fd.FD()); err != nil || id != m.ID {
			continue
		}
		found = true
		if err := it.Link.Detach(); err != nil {
			return fmt.Errorf("can't unload %s %s id %d: detach link %d: %w", m.KernelStructOps, m.Name, m.ID, info.ID, err)
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("can't unload %s %s id %d: no link holds it (it is not registered)", m.KernelStructOps, m.Name, m.ID)
	}
	return nil
}
