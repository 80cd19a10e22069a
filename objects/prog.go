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

// Program describes a loaded program with the fields of `bpftool prog show`,
// in bpftool's JSON order.
type Program struct {
	ID              uint32    `json:"id"`
	Type            TypeName  `json:"type"`
	Name            string    `json:"name,omitempty"`
	Tag             string    `json:"tag"`
	GPLCompatible   bool      `json:"gpl_compatible"`
	RunTimeNs       *uint64   `json:"run_time_ns,omitempty"`
	RunCnt          *uint64   `json:"run_cnt,omitempty"`
	RecursionMisses uint64    `json:"recursion_misses,omitempty"`
	LoadedAt        *int64    `json:"loaded_at,omitempty"` // epoch seconds
	UID             *uint32   `json:"uid,omitempty"`
	Orphaned        bool      `json:"orphaned"`
	BytesXlated     uint32    `json:"bytes_xlated"`
	Jited           bool      `json:"jited"`
	BytesJited      *uint32   `json:"bytes_jited,omitempty"`
	BytesMemlock    *int64    `json:"bytes_memlock,omitempty"`
	MapIDs          []uint32  `json:"map_ids,omitempty"`
	BTFID           uint32    `json:"btf_id,omitempty"`
	Pinned          *[]string `json:"pinned,omitempty"`

	// KernelName is the name as the kernel stores it (at most 15 bytes).
	KernelName string `json:"-"`
	// AttachBTFObjID and AttachBTFID name the attach target of tracing
	// programs.
	AttachBTFObjID uint32 `json:"-"`
	AttachBTFID    uint32 `json:"-"`
	// VerifiedInsns is the number of instructions the verifier processed.
	VerifiedInsns uint32 `json:"-"`
}

// ProgramInfo describes p. Each call asks the kernel afresh.
func ProgramInfo(p *ebpf.Program) (*Program, error) {
	return programInfoFD(p.FD())
}

func programInfoFD(fd int) (*Program, error) {
	raw, mapIDs, err := progInfoWithMaps(fd)
	orphaned := errors.Is(err, unix.ENODEV)
	if err != nil && !orphaned {
		return nil, fmt.Errorf("get program info: %w", err)
	}
	prog := &Program{
		Orphaned:       orphaned,
		ID:             raw.ID,
		Type:           ProgTypeName(ebpf.ProgramType(raw.Type)),
		KernelName:     unix.ByteSliceToString(raw.Name[:]),
		Tag:            fmt.Sprintf("%x", raw.Tag[:]),
		GPLCompatible:  raw.Flags&1 != 0,
		BytesXlated:    raw.XlatedProgLen,
		Jited:          raw.JitedProgLen > 0,
		BTFID:          raw.BTFID,
		AttachBTFObjID: raw.AttachBTFObjID,
		AttachBTFID:    raw.AttachBTFID,
		VerifiedInsns:  raw.VerifiedInsns,
	}
	prog.Name = prog.KernelName
	if len(prog.KernelName) == len(raw.Name)-1 && raw.BTFID != 0 && raw.NrFuncInfo > 0 {
		if full, err := fullProgName(fd, raw); err == nil {
			prog.Name = full
		}
	}
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
	if info, err := fdInfo(fd); err == nil {
		if v, err := strconv.ParseInt(info["memlock"], 10, 64); err == nil {
			prog.BytesMemlock = &v
		}
	}
	return prog, nil
}

// AddPins sets Pinned from the paths of every pinned program, as bpftool
// -f does: an empty list when others are pinned but this one is not.
func (p *Program) AddPins(pins map[uint32][]string) { p.Pinned = pinsOf(pins, p.ID) }

// LoadTime returns when the program was loaded, if the kernel said.
func (p *Program) LoadTime() (time.Time, bool) {
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

// Programs opens every loaded program. Programs that vanish while the list
// is being read are skipped. The caller closes the programs.
func Programs() ([]*ebpf.Program, error) {
	var progs []*ebpf.Program
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return progs, nil
		}
		if err != nil {
			closeAll(progs)
			return nil, fmt.Errorf("get next program id: %w", PermissionHint(err))
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			closeAll(progs)
			return nil, fmt.Errorf("open program %d: %w", id, PermissionHint(err))
		}
		progs = append(progs, p)
	}
}

// ListPrograms describes the programs sel selects. Listing every program
// uses plain system calls on file descriptors, which keeps `prog show` on a
// busy machine as fast as bpftool; programs that vanish meanwhile are
// skipped.
func ListPrograms(sel Selector) ([]*Program, error) {
	if !sel.All() {
		return describe(sel, OpenPrograms, ProgramInfo)
	}
	var infos []*Program
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return infos, nil
		}
		if err != nil {
			return nil, fmt.Errorf("get next program id: %w", PermissionHint(err))
		}
		id = next
		fd, err := getFDByID(unix.BPF_PROG_GET_FD_BY_ID, uint32(id))
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open program %d: %w", id, PermissionHint(err))
		}
		info, err := programInfoFD(fd)
		unix.Close(fd)
		if err != nil {
			continue // it went away
		}
		infos = append(infos, info)
	}
}

// OpenPrograms opens the programs sel selects. A tag or name that matches
// nothing is an error, unlike in bpftool.
func OpenPrograms(sel Selector) ([]*ebpf.Program, error) {
	switch sel.Kind {
	case "":
		return Programs()
	case "id":
		p, err := ebpf.NewProgramFromID(ebpf.ProgramID(sel.ID))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no program with id %d", sel.ID)
		}
		if err != nil {
			return nil, fmt.Errorf("open program %d: %w", sel.ID, PermissionHint(err))
		}
		return []*ebpf.Program{p}, nil
	case "pinned":
		p, err := openPinned[*ebpf.Program](sel.Value, "prog", nil)
		if err != nil {
			return nil, err
		}
		return []*ebpf.Program{p}, nil
	}
	all, err := Programs()
	if err != nil {
		return nil, err
	}
	var match []*ebpf.Program
	for _, p := range all {
		if programMatches(p, sel) {
			match = append(match, p)
		} else {
			p.Close()
		}
	}
	if len(match) == 0 {
		return nil, fmt.Errorf("no program with %s %s", sel.Kind, sel.Value)
	}
	return match, nil
}

func programMatches(p *ebpf.Program, sel Selector) bool {
	raw, err := progInfoRaw(p.FD())
	if err != nil {
		return false
	}
	switch sel.Kind {
	case "tag":
		return fmt.Sprintf("%x", raw.Tag[:]) == sel.Value
	case "name":
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

// OpenProgram opens the one program sel selects.
func OpenProgram(sel Selector) (*ebpf.Program, error) {
	progs, err := OpenPrograms(sel)
	if err != nil {
		return nil, err
	}
	if len(progs) > 1 {
		closeAll(progs)
		return nil, fmt.Errorf("several programs match this handle (%s)", sel)
	}
	return progs[0], nil
}

func closeAll[T interface{ Close() error }](objs []T) {
	for _, o := range objs {
		o.Close()
	}
}
