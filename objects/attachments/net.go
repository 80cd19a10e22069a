package attachments

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects"
)

// NetAttachments are the programs on the network hooks of the current
// network namespace, in bpftool's `net show` order: XDP by device, tc by
// device (tcx, netkit, then classic tc filters), the flow dissector and
// netfilter links.
type NetAttachments struct {
	XDP           []XDPAttachment
	TC            []TCAttachment
	FlowDissector []FlowDissector // at most one
	Netfilter     []NetfilterAttachment
}

// XDPAttachment is the XDP program of a device, or its programs in
// several modes at once (Multi).
type XDPAttachment struct {
	Devname string
	Ifindex uint32
	// Mode is "driver", "generic" or "offload"; empty when Multi is set.
	Mode   string
	ProgID uint32
	Multi  []XDPMode
}

// XDPMode is one mode's program of a device with several.
type XDPMode struct {
	Mode   string
	ProgID uint32
}

// TCAttachment is a program on a device's traffic control hooks: a classic
// cls_bpf filter (Kind is the parent qdisc's kind, "root",
// "clsact/ingress" or "clsact/egress"), or a program of a tcx or netkit
// hook (Kind "tcx/ingress", "netkit/primary"...; MultiProg set).
type TCAttachment struct {
	Devname string
	Ifindex uint32
	Kind    string
	// Name is the filter's name (tc's "object:[section]") or, on mprog
	// hooks, the program's name; it may be empty.
	Name string
	// ProgID is the program's id; HasID says whether a classic filter
	// reported one.
	ProgID uint32
	HasID  bool

	// MultiProg marks tcx and netkit programs, with their flags and the
	// link that holds them (0 for a program attached without one).
	MultiProg bool
	ProgFlags []uint32
	LinkID    uint32
	LinkFlags []uint32
}

// FlowDissector is the flow dissector program of the network namespace.
type FlowDissector struct {
	ProgID uint32
	Name   string
}

// NetfilterAttachment is a netfilter link.
type NetfilterAttachment struct {
	LinkID uint32
	ProgID uint32
	Name   string // the program's
	PF     uint32
	Hook   uint32
	Prio   int32
	Flags  uint32
}

// The values of IFLA_XDP_ATTACHED.
const (
	xdpAttachedDrv   = 1
	xdpAttachedSKB   = 2
	xdpAttachedHW    = 3
	xdpAttachedMulti = 4
)

// The tc parents bpftool walks after the qdiscs and classes.
const (
	tcRoot          = 0xffffffff
	tcClsactIngress = 0xfffffff2
	tcClsactEgress  = 0xfffffff3
)

// mprogHooks are the tcx and netkit hooks, with bpftool's names.
var mprogHooks = []struct {
	typ  ebpf.AttachType
	kind string
}{
	{ebpf.AttachTCXIngress, "tcx/ingress"},
	{ebpf.AttachTCXEgress, "tcx/egress"},
	{ebpf.AttachNetkitPrimary, "netkit/primary"},
	{ebpf.AttachNetkitPeer, "netkit/peer"},
}

// device is a network interface of the namespace.
type device struct {
	name  string
	index int
}

// DeviceIndex returns the index of the device named name, or an error
// naming it.
func DeviceIndex(name string) (int, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return 0, fmt.Errorf("no network device %s", name)
		}
		return 0, fmt.Errorf("find network device %s: %w", name, err)
	}
	return l.Attrs().Index, nil
}

// Net lists the programs on the network hooks of the current network
// namespace; dev limits the devices to one (0: all of them).
func Net(dev int) (*NetAttachments, error) {
	out := &NetAttachments{}
	devs, err := linkDump(dev, out)
	if err != nil {
		return nil, fmt.Errorf("list network devices: %w", objects.PermissionHint(err))
	}
	for _, d := range devs {
		out.TC = append(out.TC, mprog(d)...)
		out.TC = append(out.TC, classicTC(d)...)
	}
	if id, err := flowDissector(); err != nil {
		return nil, err
	} else if id != 0 {
		out.FlowDissector = []FlowDissector{{ProgID: id, Name: progName(id)}}
	}
	nf, err := netfilterLinks()
	if err != nil {
		return nil, err
	}
	out.Netfilter = nf
	return out, nil
}

// linkDump lists the devices (one, when dev is set) and their XDP
// programs. vishvananda/netlink's Link leaves out the per-mode program ids
// of a device with several XDP programs, so the dump goes through its
// request API and the IFLA_XDP attributes are read here.
func linkDump(dev int, out *NetAttachments) ([]device, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfInfomsg(unix.AF_PACKET))
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, err
	}
	var devs []device
	for _, m := range msgs {
		ifi := nl.DeserializeIfInfomsg(m)
		if dev > 0 && int(ifi.Index) != dev {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[ifi.Len():])
		if err != nil {
			return nil, err
		}
		d := device{index: int(ifi.Index)}
		var xdp []syscall.NetlinkRouteAttr
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				d.name = unix.ByteSliceToString(a.Value)
			case unix.IFLA_XDP, unix.IFLA_XDP | unix.NLA_F_NESTED:
				xdp, _ = nl.ParseRouteAttr(a.Value)
			}
		}
		devs = append(devs, d)
		if x, ok := xdpAttachment(d, xdp); ok {
			out.XDP = append(out.XDP, x)
		}
	}
	return devs, nil
}

// xdpAttachment reads a device's IFLA_XDP attributes.
func xdpAttachment(d device, attrs []syscall.NetlinkRouteAttr) (XDPAttachment, bool) {
	var mode uint8
	ids := map[uint16]uint32{}
	for _, a := range attrs {
		switch t := a.Attr.Type; {
		case t == unix.IFLA_XDP_ATTACHED && len(a.Value) >= 1:
			mode = a.Value[0]
		case len(a.Value) >= 4:
			ids[t] = binary.NativeEndian.Uint32(a.Value)
		}
	}
	x := XDPAttachment{Devname: d.name, Ifindex: uint32(d.index)}
	switch mode {
	case xdpAttachedDrv:
		x.Mode, x.ProgID = "driver", ids[unix.IFLA_XDP_PROG_ID]
	case xdpAttachedSKB:
		x.Mode, x.ProgID = "generic", ids[unix.IFLA_XDP_PROG_ID]
	case xdpAttachedHW:
		x.Mode, x.ProgID = "offload", ids[unix.IFLA_XDP_PROG_ID]
	case xdpAttachedMulti:
		for _, m := range []struct {
			attr uint16
			mode string
		}{{unix.IFLA_XDP_SKB_PROG_ID, "generic"}, {unix.IFLA_XDP_DRV_PROG_ID, "driver"}, {unix.IFLA_XDP_HW_PROG_ID, "offload"}} {
			if id, ok := ids[m.attr]; ok {
				x.Multi = append(x.Multi, XDPMode{m.mode, id})
			}
		}
	default:
		return x, false
	}
	return x, true
}

// mprog lists the tcx and netkit programs of a device.
func mprog(d device) []TCAttachment {
	var out []TCAttachment
	for _, h := range mprogHooks {
		q, err := objects.ProgQuery(d.index, uint32(h.typ), 0)
		if err != nil {
			continue // not a netkit device, or an older kernel
		}
		for i, id := range q.ProgIDs {
			out = append(out, TCAttachment{
				Devname: d.name, Ifindex: uint32(d.index), Kind: h.kind, Name: progName(id),
				ProgID: id, HasID: true, MultiProg: true,
				ProgFlags: bits(q.ProgFlags[i]), LinkID: q.LinkIDs[i], LinkFlags: bits(q.LinkFlags[i]),
			})
		}
	}
	return out
}

// bits splits flags into its set bits, lowest first, as bpftool lists them.
func bits(flags uint32) []uint32 {
	out := []uint32{}
	for j := 0; j < 32; j++ {
		if flags&(1<<j) != 0 {
			out = append(out, 1<<j)
		}
	}
	return out
}

// classicTC lists a device's cls_bpf filters the way bpftool walks them:
// under each class and qdisc (but clsact), then under the root and the
// clsact ingress and egress hooks.
func classicTC(d device) []TCAttachment {
	l := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: d.index, Name: d.name}}
	type parent struct {
		kind   string
		handle uint32
	}
	var parents []parent
	if classes, err := netlink.ClassList(l, 0); err == nil {
		for _, c := range classes {
			parents = append(parents, parent{c.Type(), c.Attrs().Handle})
		}
	}
	if qdiscs, err := netlink.QdiscList(l); err == nil {
		for _, q := range qdiscs {
			if q.Type() == "clsact" || q.Attrs().Handle == 0 {
				continue
			}
			parents = append(parents, parent{q.Type(), q.Attrs().Handle})
		}
	}
	parents = append(parents, parent{"root", tcRoot}, parent{"clsact/ingress", tcClsactIngress}, parent{"clsact/egress", tcClsactEgress})
	var out []TCAttachment
	for _, p := range parents {
		filters, err := netlink.FilterList(l, p.handle)
		if err != nil {
			continue // no such parent on this device
		}
		for _, f := range filters {
			bf, ok := f.(*netlink.BpfFilter)
			if !ok || (bf.Id == 0 && bf.Name == "") {
				continue
			}
			out = append(out, TCAttachment{Devname: d.name, Ifindex: uint32(d.index), Kind: p.kind,
				Name: bf.Name, ProgID: uint32(bf.Id), HasID: bf.Id != 0})
		}
	}
	return out
}

// flowDissector returns the flow dissector program of the current network
// namespace, 0 when there is none.
func flowDissector() (uint32, error) {
	ns, err := os.Open("/proc/self/ns/net")
	if err != nil {
		return 0, fmt.Errorf("open network namespace: %w", err)
	}
	defer ns.Close()
	q, err := objects.ProgQuery(int(ns.Fd()), uint32(ebpf.AttachFlowDissector), 0)
	if errors.Is(err, unix.EINVAL) {
		return 0, nil // a kernel that cannot say
	}
	if err != nil {
		return 0, fmt.Errorf("query the flow dissector: %w", objects.PermissionHint(err))
	}
	if len(q.ProgIDs) > 0 {
		return q.ProgIDs[0], nil
	}
	return 0, nil
}

// netfilterLinks lists the netfilter links, ordered as bpftool orders them:
// by protocol family, hook, priority and flags.
func netfilterLinks() ([]NetfilterAttachment, error) {
	var out []NetfilterAttachment
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil || info.Type != link.NetfilterType {
			continue
		}
		if nf := info.Netfilter(); nf != nil {
			out = append(out, NetfilterAttachment{LinkID: uint32(info.ID), ProgID: uint32(info.Program), Name: progName(uint32(info.Program)),
				PF: uint32(nf.ProtocolFamily), Hook: uint32(nf.Hook), Prio: nf.Priority, Flags: nf.Flags})
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("list links: %w", objects.PermissionHint(err))
	}
	slices.SortStableFunc(out, func(a, b NetfilterAttachment) int {
		return cmp.Or(cmp.Compare(a.PF, b.PF), cmp.Compare(a.Hook, b.Hook), cmp.Compare(a.Prio, b.Prio), cmp.Compare(a.Flags, b.Flags))
	})
	return out, nil
}

// The names bpftool gives netfilter protocol families and hooks.
var (
	nfFamilies = map[uint32]string{1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}
	nfInetHook = []string{"prerouting", "input", "forward", "output", "postrouting"}
	nfArpHook  = []string{"input", "output"}
)

// NetfilterNames returns bpftool's names for a netfilter protocol family
// and hook; ok is false unless both have one (pf alone may).
func NetfilterNames(pf, hook uint32) (pfName, hookName string, ok bool) {
	pfName = nfFamilies[pf]
	var hooks []string
	switch pf {
	case 1, 2, 7, 10:
		hooks = nfInetHook
	case 3:
		hooks = nfArpHook
	}
	if int(hook) < len(hooks) {
		return pfName, hooks[hook], pfName != ""
	}
	return pfName, "", false
}
