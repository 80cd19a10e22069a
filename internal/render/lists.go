package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bpfkit/bpfkit/objects"
)

// The lists of kernel objects: a table in text, bpftool's objects in JSON.

func (p *textPrinter) Programs(progs []*objects.ProgramInfo, _, pins bool) error {
	header, rows := programRows(progs, pins)
	return table(p.w, header, rows)
}

func (p *jsonPrinter) Programs(progs []*objects.ProgramInfo, one, _ bool) error {
	return p.list(progs, func() any { return progs[0] }, one)
}

func (p *textPrinter) Maps(maps []*objects.MapInfo, _, pins bool) error {
	header, rows := mapRows(maps, pins)
	return table(p.w, header, rows)
}

func (p *jsonPrinter) Maps(maps []*objects.MapInfo, one, _ bool) error {
	return p.list(maps, func() any { return maps[0] }, one)
}

func (p *textPrinter) Links(links []*objects.LinkInfo, _, pins bool) error {
	header, rows := linkRows(links, pins)
	return table(p.w, header, rows)
}

func (p *jsonPrinter) Links(links []*objects.LinkInfo, one, _ bool) error {
	return p.list(links, func() any { return links[0] }, one)
}

func (p *textPrinter) BTFObjects(objs []*objects.BTFInfo, _ bool) error {
	rows := make([][]string, 0, len(objs))
	for _, o := range objs {
		rows = append(rows, []string{
			strconv.FormatUint(uint64(o.ID), 10),
			orDash(o.Name),
			fmt.Sprintf("%dB", o.Size),
			yesNo(o.Kernel),
			orDash(joinIDs(o.ProgIDs)),
			orDash(joinIDs(o.MapIDs)),
		})
	}
	return table(p.w, []string{"ID", "NAME", "SIZE", "KERNEL", "PROG IDS", "MAP IDS"}, rows)
}

func (p *jsonPrinter) BTFObjects(objs []*objects.BTFInfo, one bool) error {
	return p.list(objs, func() any { return objs[0] }, one)
}

func programRows(progs []*objects.ProgramInfo, withPins bool) ([]string, [][]string) {
	header := []string{"ID", "TYPE", "NAME", "TAG", "GPL", "LOADED AT", "UID", "XLATED", "JITED", "MEMLOCK", "MAPS", "BTF"}
	rows := make([][]string, 0, len(progs))
	for _, p := range progs {
		loaded := "-"
		if t, ok := p.LoadTime(); ok {
			loaded = t.Format("2006-01-02T15:04:05-0700")
		}
		uid := "-"
		if p.UID != nil {
			uid = strconv.FormatUint(uint64(*p.UID), 10)
		}
		jited := "-"
		if p.BytesJited != nil {
			jited = fmt.Sprintf("%dB", *p.BytesJited)
		}
		row := []string{
			strconv.FormatUint(uint64(p.ID), 10),
			p.Type.String(),
			orDash(p.Name),
			p.Tag,
			yesNo(p.GPLCompatible),
			loaded,
			uid,
			fmt.Sprintf("%dB", p.BytesXlated),
			jited,
			bytesOrDash(p.BytesMemlock),
			orDash(joinIDs(p.MapIDs)),
			idOrDash(p.BTFID),
		}
		rows = append(rows, row)
	}
	return withHolders(header, rows, withPins, func(i int) (*[]string, []objects.Owner) { return progs[i].Pinned, progs[i].PIDs })
}

func mapRows(maps []*objects.MapInfo, withPins bool) ([]string, [][]string) {
	header := []string{"ID", "TYPE", "NAME", "FLAGS", "KEY", "VALUE", "MAX ENTRIES", "MEMLOCK", "FROZEN", "BTF"}
	rows := make([][]string, 0, len(maps))
	for _, m := range maps {
		typ := m.Type.String()
		if m.OwnerProgType != nil {
			typ += " (owner " + m.OwnerProgType.String() + ")"
		}
		row := []string{
			strconv.FormatUint(uint64(m.ID), 10),
			typ,
			orDash(m.Name),
			fmt.Sprintf("0x%x", m.Flags),
			fmt.Sprintf("%dB", m.BytesKey),
			fmt.Sprintf("%dB", m.BytesValue),
			strconv.FormatUint(uint64(m.MaxEntries), 10),
			bytesOrDash(m.BytesMemlock),
			yesNo(m.Frozen != 0),
			idOrDash(m.BTFID),
		}
		rows = append(rows, row)
	}
	return withHolders(header, rows, withPins, func(i int) (*[]string, []objects.Owner) { return maps[i].Pinned, maps[i].PIDs })
}

func linkRows(links []*objects.LinkInfo, withPins bool) ([]string, [][]string) {
	header := []string{"ID", "TYPE", "PROG", "DETAILS"}
	rows := make([][]string, 0, len(links))
	for _, l := range links {
		details := make([]string, 0, len(l.Details))
		for _, f := range l.Details {
			details = append(details, fmt.Sprintf("%s %v", f.Key, f.Value))
		}
		row := []string{
			strconv.FormatUint(uint64(l.ID), 10),
			l.Type.String(),
			strconv.FormatUint(uint64(l.ProgID), 10),
			orDash(strings.Join(details, "  ")),
		}
		rows = append(rows, row)
	}
	return withHolders(header, rows, withPins, func(i int) (*[]string, []objects.Owner) { return links[i].Pinned, links[i].PIDs })
}

// withHolders adds the optional columns of a table of objects: PINNED
// (with -f) and PIDS (when a process holds any of them). holders(i) gives
// the pins and owning processes of row i.
func withHolders(header []string, rows [][]string, withPins bool, holders func(int) (*[]string, []objects.Owner)) ([]string, [][]string) {
	withPIDs := false
	for i := range rows {
		if _, owners := holders(i); len(owners) > 0 {
			withPIDs = true
		}
	}
	for i := range rows {
		pinned, owners := holders(i)
		if withPins {
			rows[i] = append(rows[i], pinsCell(pinned))
		}
		if withPIDs {
			rows[i] = append(rows[i], ownersCell(owners))
		}
	}
	if withPins {
		header = append(header, "PINNED")
	}
	if withPIDs {
		header = append(header, "PIDS")
	}
	return header, rows
}

// The cells of tables: "-" for what is absent.

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dashList(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func idOrDash(id uint32) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatUint(uint64(id), 10)
}

func bytesOrDash(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprintf("%dB", *n)
}

func joinIDs(ids []uint32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ",")
}

// ownersCell is bpftool's plain form of pids: comm(pid), comma-separated.
func ownersCell(owners []objects.Owner) string {
	s := make([]string, len(owners))
	for i, o := range owners {
		s[i] = o.Comm + "(" + strconv.Itoa(o.PID) + ")"
	}
	return strings.Join(s, ",")
}

func pinsCell(p *[]string) string {
	if p == nil || len(*p) == 0 {
		return "-"
	}
	return strings.Join(*p, ",")
}
