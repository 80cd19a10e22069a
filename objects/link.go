package objects

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Field is one named value of a link's type-specific details.
type Field struct {
	Key   string
	Value any
}

// LinkInfo describes a link with the fields of `bpftool link show`: the
// common ones, then the details of its type in bpftool's order, then where
// it is pinned and which processes hold it.
type LinkInfo struct {
	ID      uint32
	Type    TypeName
	ProgID  uint32
	Details []Field
	Pinned  *[]string
	PIDs    []Owner
}

// MarshalJSON writes bpftool's field order: id, type, prog_id, the
// details, pinned.
func (l *LinkInfo) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	b.WriteString(strconv.FormatUint(uint64(l.ID), 10))
	typ, _ := l.Type.MarshalJSON()
	b.WriteString(`,"type":`)
	b.Write(typ)
	b.WriteString(`,"prog_id":`)
	b.WriteString(strconv.FormatUint(uint64(l.ProgID), 10))
	fields := l.Details[:len(l.Details):len(l.Details)]
	if l.Pinned != nil {
		fields = append(fields, Field{"pinned", *l.Pinned})
	}
	if len(l.PIDs) > 0 {
		fields = append(fields, Field{"pids", l.PIDs})
	}
	for _, f := range fields {
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.WriteString(strconv.Quote(f.Key))
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// The perf_event link subtypes (enum bpf_perf_event_type), which
// cilium/ebpf leaves unnamed.
const (
	PerfEventUprobe    = 1
	PerfEventUretprobe = 2
	PerfEventKprobe    = 3
	PerfEventKretprobe = 4
	PerfEventTP        = 5
	PerfEventEvent     = 6
)

// Links are the BPF links in the kernel.
var Links = &Noun[link.Link, LinkInfo]{
	name:    "link",
	kind:    KindLink,
	pinKind: "link",
	kinds:   []SelectorKind{SelectID, SelectPinned},
	nextID:  unix.BPF_LINK_GET_NEXT_ID,
	fromID: func(id uint32) (link.Link, error) {
		return link.NewFromID(link.ID(id))
	},
	id: func(l link.Link) (uint32, error) {
		info, err := l.Info()
		if err != nil {
			return 0, err
		}
		return uint32(info.ID), nil
	},
	getFD:     unix.BPF_LINK_GET_FD_BY_ID,
	fd:        func(l link.Link) int { fd, _ := linkFD(l); return fd },
	describer: func(n int) func(int) (*LinkInfo, error) { return newLinkLister(n).describe },
	addOwners: func(l *LinkInfo, o *Owners) { l.PIDs = o.Links[l.ID] },
}

// linkLister describes the links of one listing: their descriptions come
// from one allocation, and the strings they repeat (tracepoint names) are
// made once.
type linkLister struct {
	infos   []LinkInfo
	raw     rawLinkInfo
	name    [256]byte
	strings map[string]string
}

func newLinkLister(n int) *linkLister {
	return &linkLister{infos: make([]LinkInfo, 0, n), strings: map[string]string{}}
}

// str returns b as a string, the same string for the same bytes.
func (l *linkLister) str(b []byte) string {
	if s, ok := l.strings[string(b)]; ok {
		return s
	}
	s := string(b)
	l.strings[s] = s
	return s
}

// nameOf reads the link's info again with the name buffer at offset off
// of the union (the kernel writes the tracepoint, target, function or
// file name there) and returns the name.
func (l *linkLister) nameOf(fd, off int) (string, error) {
	l.name[0] = 0
	l.raw.setPointer(off, unsafe.Pointer(&l.name[0]), len(l.name))
	err := objInfo(fd, unsafe.Pointer(&l.raw), unsafe.Sizeof(l.raw))
	runtime.KeepAlive(l)
	l.raw.setPointer(off, nil, 0)
	if err != nil {
		return "", err
	}
	return l.str(l.name[:clen(l.name[:])]), nil
}

// describe describes the link behind fd with bpftool's details of its type.
func (l *linkLister) describe(fd int) (*LinkInfo, error) {
	l.raw = rawLinkInfo{}
	if err := objInfo(fd, unsafe.Pointer(&l.raw), unsafe.Sizeof(l.raw)); err != nil {
		return nil, fmt.Errorf("get link info: %w", err)
	}
	if len(l.infos) == cap(l.infos) {
		l.infos = make([]LinkInfo, 0, max(16, cap(l.infos)))
	}
	l.infos = l.infos[:len(l.infos)+1]
	out := &l.infos[len(l.infos)-1]
	r := &l.raw
	*out = LinkInfo{ID: r.ID, Type: LinkTypeName(link.Type(r.Type)), ProgID: r.ProgID}
	add := func(k string, v any) { out.Details = append(out.Details, Field{k, v}) }
	attach := func(t uint32) { add("attach_type", AttachTypeName(ebpf.AttachType(t))) }
	named := func(off int) (string, bool) {
		name, err := l.nameOf(fd, off)
		return name, err == nil
	}

	switch link.Type(r.Type) {
	case link.RawTracepointType:
		cookie := r.u64(16)
		if name, ok := named(0); ok {
			add("tp_name", name)
			add("cookie", cookie)
		}
	case link.TracingType:
		if pfd, err := getFDByID(unix.BPF_PROG_GET_FD_BY_ID, r.ProgID); err == nil {
			if raw, err := progInfoRaw(pfd); raw != nil && err == nil {
				add("prog_type", ProgTypeName(ebpf.ProgramType(raw.Type)))
			}
			unix.Close(pfd)
		}
		attach(r.u32(0))
		add("target_obj_id", r.u32(4))
		add("target_btf_id", r.u32(8))
	case link.CgroupType:
		add("cgroup_id", r.u64(0))
		attach(r.u32(8))
	case link.IterType:
		mapID := r.u32(12)
		if target, ok := named(0); ok {
			add("target_name", target)
			if target == "bpf_map_elem" || target == "bpf_sk_storage_map" {
				add("map_id", mapID)
			}
		}
	case link.NetNsType:
		add("netns_ino", r.u32(0))
		attach(r.u32(4))
	case link.NetfilterType:
		add("pf", r.u32(0))
		add("hook", r.u32(4))
		add("prio", int32(r.u32(8)))
		add("flags", r.u32(12))
	case link.TCXType, link.NetkitType:
		add("devname", ifName(r.u32(0)))
		add("ifindex", r.u32(0))
		attach(r.u32(4))
	case link.XDPType:
		add("devname", ifName(r.u32(0)))
		add("ifindex", r.u32(0))
	case link.KprobeMultiType:
		add("retprobe", r.u32(12)&1 != 0)
		add("func_cnt", r.u32(8))
		add("missed", r.u64(16))
	case link.UprobeMultiType:
		add("retprobe", r.u32(40)&1 != 0)
		add("func_cnt", r.u32(36))
	case link.PerfEventType:
		l.perfEventDetails(fd, add)
	case link.StructOpsType:
		if id, err := StructOpsLinkMapID(fd); err == nil {
			add("map_id", id)
		}
	}
	return out, nil
}

// perfEventDetails adds the details of a perf_event link (r.u32(0) is
// its kind; the rest of the union follows at offset 8).
func (l *linkLister) perfEventDetails(fd int, add func(string, any)) {
	r := &l.raw
	kind := r.u32(0)
	switch kind {
	case PerfEventKprobe, PerfEventKretprobe:
		addr, offset, missed := r.u64(24), r.u32(20), r.u64(32)
		if name, err := l.nameOf(fd, 8); err == nil {
			add("retprobe", kind == PerfEventKretprobe)
			add("addr", addr)
			add("func", name)
			add("offset", offset)
			add("missed", missed)
		}
	case PerfEventUprobe, PerfEventUretprobe:
		offset, cookie, refCtr := r.u32(20), r.u64(24), r.u64(32)
		if name, err := l.nameOf(fd, 8); err == nil {
			add("retprobe", kind == PerfEventUretprobe)
			add("file", name)
			add("offset", offset)
			add("cookie", cookie)
			add("ref_ctr_offset", refCtr)
		}
	case PerfEventTP:
		cookie := r.u64(24)
		if name, err := l.nameOf(fd, 8); err == nil {
			add("tracepoint", name)
			add("cookie", cookie)
		}
	case PerfEventEvent:
		add("event_type", r.u32(16))
		add("event_config", r.u64(8))
		add("cookie", r.u64(24))
	}
}

func ifName(index uint32) string {
	if index == 0 {
		return "(detached)"
	}
	if ifc, err := net.InterfaceByIndex(int(index)); err == nil {
		return ifc.Name
	}
	return ""
}

// linkFD returns the file descriptor behind l, when it has one.
func linkFD(l link.Link) (int, bool) {
	if f, ok := l.(interface{ FD() int }); ok {
		return f.FD(), true
	}
	return 0, false
}

// AddPins sets Pinned for a -f listing (see Program.AddPins).
func (l *LinkInfo) AddPins(pins map[uint32][]string) { l.Pinned = pinsOf(pins, l.ID) }
