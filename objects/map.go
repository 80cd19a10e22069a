package objects

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Map describes a map with the fields of `bpftool map show`, in bpftool's
// JSON order.
type Map struct {
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

	// BTFKeyTypeID and BTFValueTypeID are the key and value types in the
	// map's BTF (BTFID); zero when the map has none.
	BTFKeyTypeID   uint32 `json:"-"`
	BTFValueTypeID uint32 `json:"-"`
	// BTFVmlinuxValueTypeID is the value type of struct_ops maps in the
	// kernel's BTF.
	BTFVmlinuxValueTypeID uint32 `json:"-"`
	MapExtra              uint64 `json:"-"`
}

// MapInfoOf describes m. Each call asks the kernel afresh.
func MapInfoOf(m *ebpf.Map) (*Map, error) {
	raw, err := mapInfoRaw(m.FD())
	if err != nil {
		return nil, fmt.Errorf("get map info: %w", err)
	}
	info := &Map{
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
	fields, err := fdInfo(m.FD())
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
func (m *Map) AddPins(pins map[uint32][]string) { m.Pinned = pinsOf(pins, m.ID) }

// ListMaps describes the maps sel selects.
func ListMaps(sel Selector) ([]*Map, error) { return describe(sel, OpenMaps, MapInfoOf) }

// Maps opens every map. Maps that vanish while the list is read are skipped.
// The caller closes the maps.
func Maps() ([]*ebpf.Map, error) {
	var maps []*ebpf.Map
	var id ebpf.MapID
	for {
		next, err := ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return maps, nil
		}
		if err != nil {
			closeAll(maps)
			return nil, fmt.Errorf("get next map id: %w", PermissionHint(err))
		}
		id = next
		m, err := ebpf.NewMapFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			closeAll(maps)
			return nil, fmt.Errorf("open map %d: %w", id, PermissionHint(err))
		}
		maps = append(maps, m)
	}
}

// OpenMaps opens the maps sel selects. A name that matches nothing is an
// error.
func OpenMaps(sel Selector) ([]*ebpf.Map, error) {
	switch sel.Kind {
	case "":
		return Maps()
	case "id":
		m, err := ebpf.NewMapFromID(ebpf.MapID(sel.ID))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no map with id %d", sel.ID)
		}
		if err != nil {
			return nil, fmt.Errorf("open map %d: %w", sel.ID, PermissionHint(err))
		}
		return []*ebpf.Map{m}, nil
	case "pinned":
		m, err := openPinned[*ebpf.Map](sel.Value, "map", nil)
		if err != nil {
			return nil, err
		}
		return []*ebpf.Map{m}, nil
	case "name":
		all, err := Maps()
		if err != nil {
			return nil, err
		}
		var match []*ebpf.Map
		for _, m := range all {
			raw, err := mapInfoRaw(m.FD())
			if err == nil && unix.ByteSliceToString(raw.Name[:]) == sel.Value {
				match = append(match, m)
			} else {
				m.Close()
			}
		}
		if len(match) == 0 {
			return nil, fmt.Errorf("no map with name %s", sel.Value)
		}
		return match, nil
	}
	return nil, fmt.Errorf("%w: maps have no %s", ErrBadSelector, sel.Kind)
}

// OpenMap opens the one map sel selects.
func OpenMap(sel Selector) (*ebpf.Map, error) {
	maps, err := OpenMaps(sel)
	if err != nil {
		return nil, err
	}
	if len(maps) > 1 {
		closeAll(maps)
		return nil, fmt.Errorf("several maps match this handle (%s)", sel)
	}
	return maps[0], nil
}
