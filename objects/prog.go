package objects

import (
	"errors"
	"fmt"
	"os"
	"strconv"
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
	pinKind: "prog",
	kinds:   []SelectorKind{SelectID, SelectPinned, SelectTag, SelectName},
	nextID:  unix.BPF_PROG_GET_NEXT_ID,
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
	describe:   DescribeProgram,
	describeID: describeProgramID,
	matches:    programMatches,
	addOwners:  func(p *ProgramInfo, o *Owners) { p.PIDs = o.Programs[p.ID] },
}

// DescribeProgram describes p. Each call asks the kernel afresh.
func DescribeProgram(p *ebpf.Program) (*ProgramInfo, error) {
	return describeProgramFD(p.FD())
}

// describeProgramID describes the program with id through plain system
// calls, which keeps `prog show` on a busy machine as fast as bpftool.
func describeProgramID(id uint32) (*ProgramInfo, error) { return describeProgram(id, nil) }

// describeProgram is describeProgramID taking what never changes from
// cache, when it is not nil.
func describeProgram(id uint32, cache *ProgramCache) (*ProgramInfo, error) {
	fd, err := getFDByID(unix.BPF_PROG_GET_FD_BY_ID, id)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	info, err := describeProgramCached(fd, cache)
	if err != nil {
		return nil, fmt.Errorf("program %d went away: %w", id, os.ErrNotExist)
	}
	return info, nil
}

func describeProgramFD(fd int) (*ProgramInfo, error) { return describeProgramCached(fd, nil) }

func describeProgramCached(fd int, cache *ProgramCache) (*ProgramInfo, error) {
	raw, mapIDs, err := progInfoWithMaps(fd)
	orphaned := errors.Is(err, unix.ENODEV)
	if err != nil && !orphaned {
		return nil, fmt.Errorf("get program info: %w", err)
	}
	prog := &ProgramInfo{
		ProgramHeader: ProgramHeader{
			ID:            raw.ID,
			Type:          ProgTypeName(ebpf.ProgramType(raw.Type)),
			Tag:           fmt.Sprintf("%x", raw.Tag[:]),
			GPLCompatible: raw.Flags&1 != 0,
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
	fixed, known := cache.get(key)
	if !known {
		fixed.name = programName(fd, raw)
		if info, err := fdInfo(fd); err == nil {
			if v, err := strconv.ParseInt(info["memlock"], 10, 64); err == nil {
				fixed.memlock = &v
			}
		}
		cache.put(key, fixed)
	}
	prog.Name, prog.BytesMemlock = fixed.name, fixed.memlock
	if raw.RunTimeNs != 0 {
		rt, rc := raw.RunTimeNs, raw.RunCnt
		prog.RunTimeNs, prog.RunCnt = &rt, &rc
	}
	prog.RecursionMisses = raw.RecursionMisses
	if raw.LoadTime != 0 {
		at := wallClock(time.Duration(raw.LoadTime))
		uid := raw.CreatedByUID
		prog.LoadedAt, prog.UID = &at, &uid
	}
	if prog.Jited {
		n := raw.JitedProgLen
		prog.BytesJited = &n
	}
	if len(mapIDs) > 0 {
		prog.MapIDs = mapIDs
	}
	return prog, nil
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

// programName is the program's full name: the kernel keeps the first 15
// bytes, and the BTF function at instruction 0 has the rest.
func programName(fd int, raw *rawProgInfo) string {
	name := unix.ByteSliceToString(raw.Name[:])
	if len(name) == len(raw.Name)-1 && raw.BTFID != 0 && raw.NrFuncInfo > 0 {
		if full, err := fullProgName(fd, raw); err == nil {
			return full
		}
	}
	return name
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
		return programName(p.FD(), raw) == sel.Value
	}
	return false
}
