package objects

import (
	"fmt"
	"strconv"

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
	describe:   DescribeMap,
	describeID: describeMapID,
	addOwners:  func(m *MapInfo, o *Owners) { m.PIDs = o.Maps[m.ID] },
	matches: func(m *ebpf.Map, sel Selector) bool {
		raw, err := mapInfoRaw(m.FD())
		return err == nil && sel.Kind == SelectName && unix.ByteSliceToString(raw.Name[:]) == sel.Value
	},
}

// DescribeMap describes m. Each call asks the kernel afresh.
func DescribeMap(m *ebpf.Map) (*MapInfo, error) { return describeMapFD(m.FD()) }

// describeMapID describes the map with id through plain system calls,
// holding one descriptor at a time: a listing of more maps than the
// process may open files works.
func describeMapID(id uint32) (*MapInfo, error) {
	fd, err := getFDByID(unix.BPF_MAP_GET_FD_BY_ID, id)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return describeMapFD(fd)
}

func describeMapFD(fd int) (*MapInfo, error) {
	raw, err := mapInfoRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("get map info: %w", err)
	}
	info := &MapInfo{
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
	fields, err := fdInfo(fd)
	if err != nil {
		return nil, fmt.Errorf("get map info: %w", err)
	}
	if v, err := strconv.ParseInt(fields["memlock"], 10, 64); err == nil {
		info.BytesMemlock = &v
	}
	if fields["frozen"] == "1" {
		info.Frozen = 1
	}
	if ebpf.MapType(raw.Type) == ebpf.ProgramArray {
		if v, err := strconv.ParseUint(fields["owner_prog_type"], 10, 32); err == nil {
			t := ProgTypeName(ebpf.ProgramType(v))
			jited := fields["owner_jited"] == "1"
			info.OwnerProgType, info.OwnerJited = &t, &jited
		}
	}
	return info, nil
}

// AddPins sets Pinned for a -f listing (see Program.AddPins).
func (m *MapInfo) AddPins(pins map[uint32][]string) { m.Pinned = pinsOf(pins, m.ID) }
