package objects

import (
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// MetadataVar is one of a program's metadata variables: a global named
// bpf_metadata_<name> in its .rodata (libbpf's convention for saying
// who built a program and how), as bpftool's `prog show` prints them under
// "metadata".
type MetadataVar struct {
	// Name is the variable's name without the bpf_metadata_ prefix.
	Name string
	// Type is the variable's BTF type, which says how to print Value.
	Type ebpfbtf.Type
	// Value is the variable's bytes.
	Value []byte
}

const metadataPrefix = "bpf_metadata_"

// metadataCache finds the metadata of the programs of one listing,
// reading each map and each BTF object once for all the programs that use
// them.
type metadataCache struct {
	maps  map[uint32]*mapMetadata
	specs map[uint32]*ebpfbtf.Spec
}

// mapMetadata is what one map says about metadata.
type mapMetadata struct {
	// rodata: the map is where bpftool looks for metadata; stop: it
	// cannot be read, and bpftool gives up looking.
	rodata, stop bool
	vars         []MetadataVar
}

// of returns the metadata of a program that uses the maps with ids, the
// way bpftool finds it: the first of the maps that is a one-element
// array with a 4-byte key, a BTF value type and ".rodata" in its name
// holds the variables; a map that cannot be opened or read ends the
// search with no metadata.
func (c *metadataCache) of(ids []uint32) []MetadataVar {
	for _, id := range ids {
		m := c.maps[id]
		if m == nil {
			m = c.read(id)
			if c.maps == nil {
				c.maps = map[uint32]*mapMetadata{}
			}
			c.maps[id] = m
		}
		if m.stop {
			return nil
		}
		if m.rodata {
			return m.vars
		}
	}
	return nil
}

// read reads the map with id.
func (c *metadataCache) read(id uint32) *mapMetadata {
	fd, err := getFDByID(unix.BPF_MAP_GET_FD_BY_ID, id)
	if err != nil {
		return &mapMetadata{stop: true}
	}
	defer unix.Close(fd)
	info, err := mapInfoRaw(fd)
	if err != nil {
		return &mapMetadata{stop: true}
	}
	if ebpf.MapType(info.Type) != ebpf.Array || info.KeySize != 4 || info.MaxEntries != 1 ||
		info.BTFValueTypeID == 0 || !strings.Contains(unix.ByteSliceToString(info.Name[:]), ".rodata") {
		return &mapMetadata{}
	}
	value := make([]byte, info.ValueSize)
	var key uint32
	if err := mapLookupRaw(fd, unsafe.Pointer(&key), value); err != nil {
		return &mapMetadata{stop: true}
	}
	m := &mapMetadata{rodata: true}
	spec := c.spec(info.BTFID)
	if spec == nil {
		return m
	}
	t, err := spec.TypeByID(ebpfbtf.TypeID(info.BTFValueTypeID))
	if err != nil {
		return m
	}
	sec, ok := t.(*ebpfbtf.Datasec)
	if !ok {
		return m
	}
	for _, vs := range sec.Vars {
		v, ok := vs.Type.(*ebpfbtf.Var)
		if !ok || !strings.HasPrefix(v.Name, metadataPrefix) {
			continue
		}
		end := min(uint64(vs.Offset)+uint64(vs.Size), uint64(len(value)))
		start := min(uint64(vs.Offset), end)
		m.vars = append(m.vars, MetadataVar{Name: v.Name[len(metadataPrefix):], Type: v.Type, Value: value[start:end]})
	}
	return m
}

// spec loads the BTF object with id, once.
func (c *metadataCache) spec(id uint32) *ebpfbtf.Spec {
	if s, ok := c.specs[id]; ok {
		return s
	}
	var spec *ebpfbtf.Spec
	if h, err := ebpfbtf.NewHandleFromID(ebpfbtf.ID(id)); err == nil {
		spec, _ = h.Spec(nil)
		h.Close()
	}
	if c.specs == nil {
		c.specs = map[uint32]*ebpfbtf.Spec{}
	}
	c.specs[id] = spec
	return spec
}
