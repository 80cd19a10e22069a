package render

import (
	"fmt"
	"strconv"

	"github.com/bpfkit/bpfkit/objects/attachments"
)

// Net: `net show`, one table row per program: where it is (xdp, tc,
// flow_dissector, netfilter), on which device, the mode or tc kind, the
// program and the link that holds it.
func (p *textPrinter) Net(n *attachments.NetAttachments) error {
	var rows [][]string
	for _, x := range n.XDP {
		dev := devCell(x.Devname, x.Ifindex)
		if len(x.Multi) == 0 {
			rows = append(rows, []string{"xdp", dev, x.Mode, idOrDash(x.ProgID), "-", "-"})
		}
		for _, m := range x.Multi {
			rows = append(rows, []string{"xdp", dev, m.Mode, idOrDash(m.ProgID), "-", "-"})
		}
	}
	for _, t := range n.TC {
		link := "-"
		if t.MultiProg {
			link = idOrDash(t.LinkID)
		}
		rows = append(rows, []string{"tc", devCell(t.Devname, t.Ifindex), t.Kind, idOrDash(t.ProgID), orDash(t.Name), link})
	}
	for _, f := range n.FlowDissector {
		rows = append(rows, []string{"flow_dissector", "-", "-", idOrDash(f.ProgID), orDash(f.Name), "-"})
	}
	for _, f := range n.Netfilter {
		rows = append(rows, []string{"netfilter", "-", netfilterCell(f), idOrDash(f.ProgID), orDash(f.Name), idOrDash(f.LinkID)})
	}
	return table(p.w, []string{"HOOK", "DEV", "KIND", "PROG", "NAME", "LINK"}, rows)
}

func devCell(name string, index uint32) string {
	return fmt.Sprintf("%s(%d)", name, index)
}

// netfilterCell is bpftool's plain form of a netfilter hook: family, hook
// and priority ("ipv4 local_in prio 10").
func netfilterCell(f attachments.NetfilterAttachment) string {
	s := fmt.Sprintf("pf: %d, hook %d,", f.PF, f.Hook)
	if pf, hook, ok := attachments.NetfilterNames(f.PF, f.Hook); ok {
		s = pf + " " + hook
	} else if pf != "" {
		s = fmt.Sprintf("%s, hook %d,", pf, f.Hook)
	}
	s += " prio " + strconv.Itoa(int(f.Prio))
	if f.Flags != 0 {
		s += fmt.Sprintf(" flags 0x%x", f.Flags)
	}
	return s
}

// The JSON of `net show`, in bpftool's order.
type (
	netJSON struct {
		XDP           []any           `json:"xdp"`
		TC            []any           `json:"tc"`
		FlowDissector []flowJSON      `json:"flow_dissector"`
		Netfilter     []netfilterJSON `json:"netfilter"`
	}
	xdpJSON struct {
		Devname string `json:"devname"`
		Ifindex uint32 `json:"ifindex"`
		Mode    string `json:"mode"`
		ID      uint32 `json:"id"`
	}
	xdpMultiJSON struct {
		Devname string        `json:"devname"`
		Ifindex uint32        `json:"ifindex"`
		Multi   []xdpModeJSON `json:"multi_attachments"`
	}
	xdpModeJSON struct {
		Mode string `json:"mode"`
		ID   uint32 `json:"id"`
	}
	tcJSON struct {
		Devname string  `json:"devname,omitempty"`
		Ifindex uint32  `json:"ifindex"`
		Kind    string  `json:"kind"`
		Name    string  `json:"name,omitempty"`
		ID      *uint32 `json:"id,omitempty"`
	}
	tcxJSON struct {
		Devname   string   `json:"devname"`
		Ifindex   uint32   `json:"ifindex"`
		Kind      string   `json:"kind"`
		Name      string   `json:"name,omitempty"`
		ProgID    uint32   `json:"prog_id"`
		ProgFlags []uint32 `json:"prog_flags"`
		LinkID    uint32   `json:"link_id"`
		LinkFlags []uint32 `json:"link_flags"`
	}
	flowJSON struct {
		ID uint32 `json:"id"`
	}
	netfilterJSON struct {
		PF    uint32 `json:"pf"`
		Hook  uint32 `json:"hook"`
		Prio  int32  `json:"prio"`
		Flags uint32 `json:"flags"`
		ID    uint32 `json:"id"`
	}
)

// Net: bpftool's array of one object with the xdp, tc, flow_dissector and
// netfilter arrays. bpftool writes the flow dissector's id straight into
// its array (`"flow_dissector":["id":5]`, which is not JSON); bpfkit
// writes an object, [{"id":5}].
func (p *jsonPrinter) Net(n *attachments.NetAttachments) error {
	out := netJSON{XDP: []any{}, TC: []any{}, FlowDissector: []flowJSON{}, Netfilter: []netfilterJSON{}}
	for _, x := range n.XDP {
		if len(x.Multi) == 0 {
			out.XDP = append(out.XDP, xdpJSON{x.Devname, x.Ifindex, x.Mode, x.ProgID})
			continue
		}
		m := xdpMultiJSON{Devname: x.Devname, Ifindex: x.Ifindex}
		for _, a := range x.Multi {
			m.Multi = append(m.Multi, xdpModeJSON{a.Mode, a.ProgID})
		}
		out.XDP = append(out.XDP, m)
	}
	for _, t := range n.TC {
		if t.MultiProg {
			out.TC = append(out.TC, tcxJSON{t.Devname, t.Ifindex, t.Kind, t.Name, t.ProgID, t.ProgFlags, t.LinkID, t.LinkFlags})
			continue
		}
		j := tcJSON{Devname: t.Devname, Ifindex: t.Ifindex, Kind: t.Kind, Name: t.Name}
		if t.HasID {
			id := t.ProgID
			j.ID = &id
		}
		out.TC = append(out.TC, j)
	}
	for _, f := range n.FlowDissector {
		out.FlowDissector = append(out.FlowDissector, flowJSON{f.ProgID})
	}
	for _, f := range n.Netfilter {
		out.Netfilter = append(out.Netfilter, netfilterJSON{f.PF, f.Hook, f.Prio, f.Flags, f.ProgID})
	}
	return p.print([]netJSON{out})
}
