package objects

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// ProgramHeader is what bpftool's `prog show` says of a program first,
// and repeats before each program's instructions when a dump selects
// several.
type ProgramHeader struct {
	ID              uint32   `json:"id"`
	Type            TypeName `json:"type"`
	Name            string   `json:"name,omitempty"`
	Tag             string   `json:"tag"`
	GPLCompatible   bool     `json:"gpl_compatible"`
	RunTimeNs       *uint64  `json:"run_time_ns,omitempty"`
	RunCnt          *uint64  `json:"run_cnt,omitempty"`
	RecursionMisses uint64   `json:"recursion_misses,omitempty"`
}

// ProgramInfo describes a loaded program with the fields of `bpftool prog
// show`, in bpftool's JSON order.
type ProgramInfo struct {
	ProgramHeader
	LoadedAt     *int64    `json:"loaded_at,omitempty"` // epoch seconds
	UID          *uint32   `json:"uid,omitempty"`
	Orphaned     bool      `json:"orphaned"`
	BytesXlated  uint32    `json:"bytes_xlated"`
	Jited        bool      `json:"jited"`
	BytesJited   *uint32   `json:"bytes_jited,omitempty"`
	BytesMemlock *int64    `json:"bytes_memlock,omitempty"`
	MapIDs       []uint32  `json:"map_ids,omitempty"`
	BTFID        uint32    `json:"btf_id,omitempty"`
	Pinned       *[]string `json:"pinned,omitempty"`
	PIDs         []Owner   `json:"pids,omitempty"`
	// Metadata are the program's bpf_metadata_* variables (bpftool's
	// "metadata").
	Metadata []MetadataVar `json:"-"`

	// KernelName is the name as the kernel stores it (at most 15 bytes).
	KernelName string `json:"-"`
	// AttachBTFObjID and AttachBTFID name the attach target of tracing
	// programs.
	AttachBTFObjID uint32 `json:"-"`
	AttachBTFID    uint32 `json:"-"`
	// VerifiedInsns is the number of instructions the verifier processed.
	VerifiedInsns uint32 `json:"-"`
}

// Programs are the loaded BPF programs.
var Programs = &Noun[*ebpf.Program, ProgramInfo]{
	name:    "program",
	kind:    KindProgram,
	pinKind: "prog",
	kinds:   []SelectorKind{SelectID, SelectPinned, SelectTag, SelectName},
	nextID:  unix.BPF_PROG_GET_NEXT_ID,
	getFD:   unix.BPF_PROG_GET_FD_BY_ID,
	fd:      (*ebpf.Program).FD,
	fromID: func(id uint32) (*ebpf.Program, error) {
		return ebpf.NewProgramFromID(ebpf.ProgramID(id))
	},
	id: func(p *ebpf.Program) (uint32, error) {
		raw, err := progInfoRaw(p.FD())
		if raw == nil {
			return 0, err
		}
		return raw.ID, nil
	},
	describer: func(n int) func(int) (*ProgramInfo, error) { return newProgLister(n).describe },
	matches:   programMatches,
	addOwners: func(p *ProgramInfo, o *Owners) { p.PIDs = o.Programs[p.ID] },
}

// DescribeProgram describes p. Each call asks the kernel afresh.
func DescribeProgram(p *ebpf.Program) (*ProgramInfo, error) {
	return newProgLister(1).describe(p.FD())
}

// progLister describes the programs of one listing: their descriptions
// and the values they point to come from one allocation, their map ids
// share one array, and the maps and BTF that metadata comes from are read
// once for all the programs that use them.
type progLister struct {
	clock  bootClock
	slots  []progSlot
	mapIDs []uint32
	meta   metadataCache
	fdinfo [1024]byte
	// cache, when not nil, holds names and memlocks read before.
	cache *ProgramCache
}

// progSlot is one program's description and what its pointers point to.
type progSlot struct {
	info                ProgramInfo
	loadedAt, memlock   int64
	uid, jited          uint32
	runTimeNs, runCount uint64
}

func newProgLister(n int) *progLister {
	return &progLister{clock: readBootClock(), slots: make([]progSlot, 0, n), mapIDs: make([]uint32, 0, n)}
}

// describe describes the program behind fd.
func (l *progLister) describe(fd int) (*ProgramInfo, error) {
	if cap(l.mapIDs)-len(l.mapIDs) < 16 {
		l.mapIDs = make([]uint32, 0, max(1024, cap(l.mapIDs)))
	}
	free := l.mapIDs[len(l.mapIDs):cap(l.mapIDs)]
	raw, mapIDs, err := progInfoWithMaps(fd, free)
	orphaned := errors.Is(err, unix.ENODEV)
	if err != nil && !orphaned {
		return nil, fmt.Errorf("get program info: %w", err)
	}
	if len(l.slots) == cap(l.slots) {
		l.slots = make([]progSlot, 0, max(16, cap(l.slots)))
	}
	l.slots = l.slots[:len(l.slots)+1]
	slot := &l.slots[len(l.slots)-1]
	prog := &slot.info
	*prog = ProgramInfo{
		ProgramHeader: ProgramHeader{
			ID:              raw.ID,
			Type:            ProgTypeName(ebpf.ProgramType(raw.Type)),
			Tag:             hex.EncodeToString(raw.Tag[:]),
			GPLCompatible:   raw.Flags&1 != 0,
			RecursionMisses: raw.RecursionMisses,
		},
		Orphaned:       orphaned,
		KernelName:     unix.ByteSliceToString(raw.Name[:]),
		BytesXlated:    raw.XlatedProgLen,
		Jited:          raw.JitedProgLen > 0,
		BTFID:          raw.BTFID,
		AttachBTFObjID: raw.AttachBTFObjID,
		AttachBTFID:    raw.AttachBTFID,
		VerifiedInsns:  raw.VerifiedInsns,
	}
	key := programKey{raw.ID, raw.LoadTime}
	fixed, known := l.cache.get(key)
	if !known {
		fixed = l.fixed(fd, raw)
		l.cache.put(key, fixed)
	}
	prog.Name = fixed.name
	if fixed.hasMemlock {
		slot.memlock = fixed.memlock
		prog.BytesMemlock = &slot.memlock
	}
	if raw.RunTimeNs != 0 {
		slot.runTimeNs, slot.runCount = raw.RunTimeNs, raw.RunCnt
		prog.RunTimeNs, prog.RunCnt = &slot.runTimeNs, &slot.runCount
	}
	if raw.LoadTime != 0 {
		slot.loadedAt, slot.uid = l.clock.epoch(raw.LoadTime), raw.CreatedByUID
		prog.LoadedAt, prog.UID = &slot.loadedAt, &slot.uid
	}
	if prog.Jited {
		slot.jited = raw.JitedProgLen
		prog.BytesJited = &slot.jited
	}
	if len(mapIDs) > 0 {
		if &mapIDs[0] == &free[0] { // they are in the shared array
			l.mapIDs = l.mapIDs[:len(l.mapIDs)+len(mapIDs)]
		}
		prog.MapIDs = mapIDs[:len(mapIDs):len(mapIDs)]
		prog.Metadata = l.meta.of(mapIDs)
	}
	return prog, nil
}

// fixed reads what never changes in the program behind fd: its full
// name (from its BTF when the kernel's is truncated) and its memlock.
func (l *progLister) fixed(fd int, raw *rawProgInfo) programFixed {
	f := programFixed{name: unix.ByteSliceToString(raw.Name[:])}
	if len(f.name) == len(raw.Name)-1 && raw.BTFID != 0 && raw.NrFuncInfo > 0 {
		if full, err := fullProgName(fd, raw); err == nil {
			f.name = full
		}
	}
	if info := readFDInfo(fd, l.fdinfo[:]); info != nil {
		f.memlock, f.hasMemlock = fdinfoInt(info, "memlock")
	}
	return f
}

// AddPins sets Pinned from the paths of every pinned program, as bpftool
// -f does: an empty list when others are pinned but this one is not.
func (p *ProgramInfo) AddPins(pins map[uint32][]string) { p.Pinned = pinsOf(pins, p.ID) }

// LoadTime returns when the program was loaded, if the kernel said.
func (p *ProgramInfo) LoadTime() (time.Time, bool) {
	if p.LoadedAt == nil {
		return time.Time{}, false
	}
	return time.Unix(*p.LoadedAt, 0), true
}

// fullProgName returns the name of the BTF function at instruction 0, the
// untruncated program name.
func fullProgName(fd int, raw *rawProgInfo) (string, error) {
	recs, err := progFuncInfos(fd, raw.NrFuncInfo)
	if err != nil {
		return "", err
	}
	h, err := ebpfbtf.NewHandleFromID(ebpfbtf.ID(raw.BTFID))
	if err != nil {
		return "", err
	}
	defer h.Close()
	spec, err := h.Spec(nil)
	if err != nil {
		return "", err
	}
	for i := 0; i < len(recs); i += 2 {
		if recs[i] != 0 {
			continue
		}
		t, err := spec.TypeByID(ebpfbtf.TypeID(recs[i+1]))
		if err != nil {
			return "", err
		}
		if fn, ok := t.(*ebpfbtf.Func); ok {
			return fn.Name, nil
		}
	}
	return "", errors.New("no function at instruction 0")
}

// programMatches reports whether p has the tag or (full) name sel selects.
func programMatches(p *ebpf.Program, sel Selector) bool {
	raw, err := progInfoRaw(p.FD())
	if err != nil {
		return false
	}
	switch sel.Kind {
	case SelectTag:
		return fmt.Sprintf("%x", raw.Tag[:]) == sel.Value
	case SelectName:
		name := unix.ByteSliceToString(raw.Name[:])
		if len(name) == len(raw.Name)-1 && raw.BTFID != 0 && raw.NrFuncInfo > 0 {
			if full, err := fullProgName(p.FD(), raw); err == nil {
				name = full
			}
		}
		return name == sel.Value
	}
	return false
}
