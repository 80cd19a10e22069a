package objects

import (
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// MapInfo describes a map with the fields of `bpftool map show`, in
// bpftool's JSON order.
type MapInfo struct {
	ID            uint32    `json:"id"`
	Type          TypeName  `json:"type"`
	Name          string    `json:"name,omitempty"`
	Flags         uint32    `json:"flags"`
	BytesKey      uint32    `json:"bytes_key"`
	BytesValue    uint32    `json:"bytes_value"`
	MaxEntries    uint32    `json:"max_entries"`
	BytesMemlock  *int64    `json:"bytes_memlock,omitempty"`
	OwnerProgType *TypeName `json:"owner_prog_type,omitempty"`
	OwnerJited    *bool     `json:"owner_jited,omitempty"`
	Frozen        int       `json:"frozen"`
	BTFID         uint32    `json:"btf_id,omitempty"`
	Pinned        *[]string `json:"pinned,omitempty"`
	PIDs          []Owner   `json:"pids,omitempty"`

	// BTFKeyTypeID and BTFValueTypeID are the key and value types in the
	// map's BTF (BTFID); zero when the map has none.
	BTFKeyTypeID   uint32 `json:"-"`
	BTFValueTypeID uint32 `json:"-"`
	// BTFVmlinuxValueTypeID is the value type of struct_ops maps in the
	// kernel's BTF.
	BTFVmlinuxValueTypeID uint32 `json:"-"`
	MapExtra              uint64 `json:"-"`
}

// Maps are the BPF maps in the kernel.
var Maps = &Noun[*ebpf.Map, MapInfo]{
	name:    "map",
	kind:    KindMap,
	pinKind: "map",
	kinds:   []SelectorKind{SelectID, SelectPinned, SelectName},
	nextID:  unix.BPF_MAP_GET_NEXT_ID,
	fromID: func(id uint32) (*ebpf.Map, error) {
		return ebpf.NewMapFromID(ebpf.MapID(id))
	},
	id: func(m *ebpf.Map) (uint32, error) {
		raw, err := mapInfoRaw(m.FD())
		if err != nil {
			return 0, err
		}
		return raw.ID, nil
	},
	getFD:     unix.BPF_MAP_GET_FD_BY_ID,
	fd:        (*ebpf.Map).FD,
	describer: func(n int) func(int) (*MapInfo, error) { return newMapLister(n).describe },
	addOwners: func(m *MapInfo, o *Owners) { m.PIDs = o.Maps[m.ID] },
	matches: func(m *ebpf.Map, sel Selector) bool {
		raw, err := mapInfoRaw(m.FD())
		return err == nil && sel.Kind == SelectName && unix.ByteSliceToString(raw.Name[:]) == sel.Value
	},
}

// DescribeMap describes m. Each call asks the kernel afresh.
func DescribeMap(m *ebpf.Map) (*MapInfo, error) {
	return newMapLister(1).describe(m.FD())
}

// mapLister describes the maps of one listing: their descriptions and
// the values they point to come from one allocation.
type mapLister struct {
	slots  []mapSlot
	raw    rawMapInfo
	fdinfo [1024]byte
}

// mapSlot is one map's description and what its pointers point to.
type mapSlot struct {
	info       MapInfo
	memlock    int64
	owner      TypeName
	ownerJited bool
}

func newMapLister(n int) *mapLister { return &mapLister{slots: make([]mapSlot, 0, n)} }

// describe describes the map behind fd.
func (l *mapLister) describe(fd int) (*MapInfo, error) {
	l.raw = rawMapInfo{}
	raw := &l.raw
	if err := objInfo(fd, unsafe.Pointer(raw), unsafe.Sizeof(*raw)); err != nil {
		return nil, fmt.Errorf("get map info: %w", err)
	}
	if len(l.slots) == cap(l.slots) {
		l.slots = make([]mapSlot, 0, max(16, cap(l.slots)))
	}
	l.slots = l.slots[:len(l.slots)+1]
	slot := &l.slots[len(l.slots)-1]
	info := &slot.info
	*info = MapInfo{
		ID:                    raw.ID,
		Type:                  MapTypeName(ebpf.MapType(raw.Type)),
		Name:                  unix.ByteSliceToString(raw.Name[:]),
		Flags:                 raw.MapFlags,
		BytesKey:              raw.KeySize,
		BytesValue:            raw.ValueSize,
		MaxEntries:            raw.MaxEntries,
		BTFID:                 raw.BTFID,
		BTFKeyTypeID:          raw.BTFKeyTypeID,
		BTFValueTypeID:        raw.BTFValueTypeID,
		BTFVmlinuxValueTypeID: raw.BTFVmlinuxValueTypeID,
		MapExtra:              raw.MapExtra,
	}
	fields := readFDInfo(fd, l.fdinfo[:])
	if fields == nil {
		return nil, fmt.Errorf("get map info: read fdinfo of map %d", raw.ID)
	}
	if v, ok := fdinfoInt(fields, "memlock"); ok {
		slot.memlock = v
		info.BytesMemlock = &slot.memlock
	}
	if v, ok := fdinfoInt(fields, "frozen"); ok && v == 1 {
		info.Frozen = 1
	}
	if ebpf.MapType(raw.Type) == ebpf.ProgramArray {
		if v, ok := fdinfoInt(fields, "owner_prog_type"); ok {
			jited, _ := fdinfoInt(fields, "owner_jited")
			slot.owner, slot.ownerJited = ProgTypeName(ebpf.ProgramType(v)), jited == 1
			info.OwnerProgType, info.OwnerJited = &slot.owner, &slot.ownerJited
		}
	}
	return info, nil
}

// AddPins sets Pinned for a -f listing (see Program.AddPins).
func (m *MapInfo) AddPins(pins map[uint32][]string) { m.Pinned = pinsOf(pins, m.ID) }
