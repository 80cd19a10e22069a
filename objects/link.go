package objects

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"

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
	describe:  DescribeLink,
	addOwners: func(l *LinkInfo, o *Owners) { l.PIDs = o.Links[l.ID] },
}

// DescribeLink describes l; some details need raw calls on its file
// descriptor.
func DescribeLink(l link.Link) (*LinkInfo, error) {
	info, err := l.Info()
	if err != nil {
		return nil, fmt.Errorf("get link info: %w", err)
	}
	out := &LinkInfo{ID: uint32(info.ID), Type: LinkTypeName(info.Type), ProgID: uint32(info.Program)}
	add := func(k string, v any) { out.Details = append(out.Details, Field{k, v}) }
	attach := func(t uint32) { add("attach_type", AttachTypeName(ebpf.AttachType(t))) }

	switch info.Type {
	case link.RawTracepointType:
		if fd, ok := linkFD(l); ok {
			if name, cookie, err := rawTPLinkInfoRaw(fd); err == nil {
				add("tp_name", name)
				add("cookie", cookie)
			}
		} else if rt := info.RawTracepoint(); rt != nil {
			add("tp_name", rt.Name)
		}
	case link.TracingType:
		if tr := info.Tracing(); tr != nil {
			if p, err := ebpf.NewProgramFromID(info.Program); err == nil {
				if raw, err := progInfoRaw(p.FD()); raw != nil && err == nil {
					add("prog_type", ProgTypeName(ebpf.ProgramType(raw.Type)))
				}
				p.Close()
			}
			attach(uint32(tr.AttachType))
			add("target_obj_id", tr.TargetObjectId)
			add("target_btf_id", uint32(tr.TargetBtfId))
		}
	case link.CgroupType:
		if cg := info.Cgroup(); cg != nil {
			add("cgroup_id", cg.CgroupId)
			attach(uint32(cg.AttachType))
		}
	case link.IterType:
		if fd, ok := linkFD(l); ok {
			if target, mapID, err := iterLinkInfoRaw(fd); err == nil {
				add("target_name", target)
				if target == "bpf_map_elem" || target == "bpf_sk_storage_map" {
					add("map_id", mapID)
				}
			}
		}
	case link.NetNsType:
		if ns := info.NetNs(); ns != nil {
			add("netns_ino", ns.NetnsInode)
			attach(uint32(ns.AttachType))
		}
	case link.NetfilterType:
		if nf := info.Netfilter(); nf != nil {
			add("pf", uint32(nf.ProtocolFamily))
			add("hook", uint32(nf.Hook))
			add("prio", nf.Priority)
			add("flags", nf.Flags)
		}
	case link.TCXType:
		if tc := info.TCX(); tc != nil {
			add("devname", ifName(tc.Ifindex))
			add("ifindex", tc.Ifindex)
			attach(uint32(tc.AttachType))
		}
	case link.NetkitType:
		if nk := info.Netkit(); nk != nil {
			add("devname", ifName(nk.Ifindex))
			add("ifindex", nk.Ifindex)
			attach(uint32(nk.AttachType))
		}
	case link.XDPType:
		if x := info.XDP(); x != nil {
			add("devname", ifName(x.Ifindex))
			add("ifindex", x.Ifindex)
		}
	case link.KprobeMultiType:
		if km := info.KprobeMulti(); km != nil {
			add("retprobe", km.Flags&1 != 0)
			add("func_cnt", km.Count)
			add("missed", km.Missed)
		}
	case link.UprobeMultiType:
		if um := info.UprobeMulti(); um != nil {
			add("retprobe", um.Flags&1 != 0)
			add("func_cnt", um.Count)
		}
	case link.PerfEventType:
		perfEventDetails(info.PerfEvent(), add)
	case link.StructOpsType:
		if fd, ok := linkFD(l); ok {
			if id, err := StructOpsLinkMapID(fd); err == nil {
				add("map_id", id)
			}
		}
	}
	return out, nil
}

func perfEventDetails(pe *link.PerfEventInfo, add func(string, any)) {
	if pe == nil {
		return
	}
	switch pe.Type {
	case PerfEventKprobe, PerfEventKretprobe:
		if k := pe.Kprobe(); k != nil {
			add("retprobe", pe.Type == PerfEventKretprobe)
			add("addr", k.Address)
			add("func", k.Function)
			add("offset", k.Offset)
			add("missed", k.Missed)
		}
	case PerfEventUprobe, PerfEventUretprobe:
		if u := pe.Uprobe(); u != nil {
			add("retprobe", pe.Type == PerfEventUretprobe)
			add("file", u.File)
			add("offset", u.Offset)
			add("cookie", u.Cookie)
			add("ref_ctr_offset", u.OffsetReferenceCount)
		}
	case PerfEventTP:
		if tp := pe.Tracepoint(); tp != nil {
			add("tracepoint", tp.Tracepoint)
			add("cookie", tp.Cookie)
		}
	case PerfEventEvent:
		if ev := pe.Event(); ev != nil {
			add("event_type", ev.Type)
			add("event_config", ev.Config)
			add("cookie", ev.Cookie)
		}
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
