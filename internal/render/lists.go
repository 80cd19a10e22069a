package render

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/objects"
)

// The lists of kernel objects: a table in text, bpftool's objects in JSON
// (one object when one was selected, else an array), written field by
// field in bpftool's order as bpftool's json_writer writes them.

func (p *textPrinter) Programs(progs []*objects.ProgramInfo, _, pins bool) error {
	return programGrid(progs, pins).writeTo(p.w)
}

func (p *jsonPrinter) Programs(progs []*objects.ProgramInfo, one, _ bool) error {
	return p.objects(len(progs), one, func(j *jsonw.Writer, i int) error { return writeProgramJSON(j, progs[i]) })
}

func (p *textPrinter) Maps(maps []*objects.MapInfo, _, pins bool) error {
	return mapGrid(maps, pins).writeTo(p.w)
}

func (p *jsonPrinter) Maps(maps []*objects.MapInfo, one, _ bool) error {
	return p.objects(len(maps), one, func(j *jsonw.Writer, i int) error { writeMapJSON(j, maps[i]); return nil })
}

func (p *textPrinter) Links(links []*objects.LinkInfo, _, pins bool) error {
	return linkGrid(links, pins).writeTo(p.w)
}

func (p *jsonPrinter) Links(links []*objects.LinkInfo, one, _ bool) error {
	return p.objects(len(links), one, func(j *jsonw.Writer, i int) error { return writeLinkJSON(j, links[i]) })
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
	return p.objects(len(objs), one, func(j *jsonw.Writer, i int) error { return j.Value(objs[i]) })
}

// objects writes n objects, each with write: the one object alone when
// one is set (bpftool's nb_fds == 1), else an array of them.
func (p *jsonPrinter) objects(n int, one bool, write func(*jsonw.Writer, int) error) error {
	bw := bufio.NewWriterSize(p.w, 64<<10)
	j := jsonw.New(bw, p.pretty)
	if one && n == 1 {
		if err := write(j, 0); err != nil {
			return err
		}
	} else {
		j.StartArray()
		for i := 0; i < n; i++ {
			if err := write(j, i); err != nil {
				return err
			}
		}
		j.EndArray()
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// writeProgramJSON writes a program as bpftool's print_prog_json does.
func writeProgramJSON(j *jsonw.Writer, p *objects.ProgramInfo) error {
	j.StartObject()
	j.Name("id")
	j.Uint(uint64(p.ID))
	j.Name("type")
	jsonTypeName(j, p.Type)
	if p.Name != "" {
		j.Name("name")
		j.String(p.Name)
	}
	j.Name("tag")
	j.String(p.Tag)
	j.Name("gpl_compatible")
	j.Bool(p.GPLCompatible)
	if p.RunTimeNs != nil {
		j.Name("run_time_ns")
		j.Uint(*p.RunTimeNs)
		j.Name("run_cnt")
		j.Uint(*p.RunCnt)
	}
	if p.RecursionMisses != 0 {
		j.Name("recursion_misses")
		j.Uint(p.RecursionMisses)
	}
	if p.LoadedAt != nil {
		j.Name("loaded_at")
		j.Int(*p.LoadedAt)
		j.Name("uid")
		j.Uint(uint64(*p.UID))
	}
	j.Name("orphaned")
	j.Bool(p.Orphaned)
	j.Name("bytes_xlated")
	j.Uint(uint64(p.BytesXlated))
	j.Name("jited")
	j.Bool(p.Jited)
	if p.BytesJited != nil {
		j.Name("bytes_jited")
		j.Uint(uint64(*p.BytesJited))
	}
	if p.BytesMemlock != nil {
		j.Name("bytes_memlock")
		j.Int(*p.BytesMemlock)
	}
	if len(p.MapIDs) > 0 {
		j.Name("map_ids")
		uintArray(j, p.MapIDs)
	}
	if p.BTFID != 0 {
		j.Name("btf_id")
		j.Uint(uint64(p.BTFID))
	}
	holdersJSON(j, p.Pinned, p.PIDs)
	if len(p.Metadata) > 0 {
		j.Name("metadata")
		j.StartObject()
		for _, m := range p.Metadata {
			j.Name(m.Name)
			if err := btf.WriteValue(j, m.Type, m.Value, btf.ValueJSON); err != nil {
				return fmt.Errorf("metadata %s of program %d: %w", m.Name, p.ID, err)
			}
		}
		j.EndObject()
	}
	j.EndObject()
	return nil
}

// writeMapJSON writes a map as bpftool's show_map_close_json does.
func writeMapJSON(j *jsonw.Writer, m *objects.MapInfo) {
	j.StartObject()
	j.Name("id")
	j.Uint(uint64(m.ID))
	j.Name("type")
	jsonTypeName(j, m.Type)
	if m.Name != "" {
		j.Name("name")
		j.String(m.Name)
	}
	j.Name("flags")
	j.Uint(uint64(m.Flags))
	j.Name("bytes_key")
	j.Uint(uint64(m.BytesKey))
	j.Name("bytes_value")
	j.Uint(uint64(m.BytesValue))
	j.Name("max_entries")
	j.Uint(uint64(m.MaxEntries))
	if m.BytesMemlock != nil {
		j.Name("bytes_memlock")
		j.Int(*m.BytesMemlock)
	}
	if m.OwnerProgType != nil {
		j.Name("owner_prog_type")
		jsonTypeName(j, *m.OwnerProgType)
		j.Name("owner_jited")
		j.Bool(*m.OwnerJited)
	}
	j.Name("frozen")
	j.Int(int64(m.Frozen))
	if m.BTFID != 0 {
		j.Name("btf_id")
		j.Uint(uint64(m.BTFID))
	}
	holdersJSON(j, m.Pinned, m.PIDs)
	j.EndObject()
}

// writeLinkJSON writes a link as bpftool's show_link_close_json does:
// id, type, prog_id, the details of its type, pinned, pids.
func writeLinkJSON(j *jsonw.Writer, l *objects.LinkInfo) error {
	j.StartObject()
	j.Name("id")
	j.Uint(uint64(l.ID))
	j.Name("type")
	jsonTypeName(j, l.Type)
	j.Name("prog_id")
	j.Uint(uint64(l.ProgID))
	for _, f := range l.Details {
		j.Name(f.Key)
		if err := j.Value(f.Value); err != nil {
			return err
		}
	}
	holdersJSON(j, l.Pinned, l.PIDs)
	j.EndObject()
	return nil
}

// jsonTypeName writes a type name as bpftool does: the name, or the number
// when libbpf does not know it.
func jsonTypeName(j *jsonw.Writer, t objects.TypeName) {
	if t.Known() {
		j.String(t.Name)
	} else {
		j.Uint(uint64(t.Value))
	}
}

func uintArray(j *jsonw.Writer, ids []uint32) {
	j.StartArray()
	for _, id := range ids {
		j.Uint(uint64(id))
	}
	j.EndArray()
}

// holdersJSON writes "pinned" (with -f) and "pids".
func holdersJSON(j *jsonw.Writer, pinned *[]string, pids []objects.Owner) {
	if pinned != nil {
		j.Name("pinned")
		j.StartArray()
		for _, p := range *pinned {
			j.String(p)
		}
		j.EndArray()
	}
	if len(pids) > 0 {
		j.Name("pids")
		j.StartArray()
		for _, o := range pids {
			j.StartObject()
			j.Name("pid")
			j.Int(int64(o.PID))
			j.Name("comm")
			j.String(o.Comm)
			j.EndObject()
		}
		j.EndArray()
	}
}

// The tables.

// loadedAtLayout is bpftool's plain loaded_at: strftime's %FT%T%z.
const loadedAtLayout = "2006-01-02T15:04:05-0700"

func programGrid(progs []*objects.ProgramInfo, withPins bool) *grid {
	header := []string{"ID", "TYPE", "NAME", "TAG", "GPL", "LOADED AT", "UID", "XLATED", "JITED", "MEMLOCK", "MAPS", "BTF"}
	header, withPIDs := holderColumns(header, withPins, len(progs), func(i int) []objects.Owner { return progs[i].PIDs })
	g := newGrid(header, len(progs))
	var lastAt int64
	var lastAtText []byte
	for _, p := range progs {
		g.uint(uint64(p.ID))
		g.buf = append(g.buf, p.Type.String()...)
		if p.Orphaned {
			g.buf = append(g.buf, " (orphaned)"...)
		}
		g.endCell()
		g.cell(orDash(p.Name))
		g.cell(p.Tag)
		g.cell(yesNo(p.GPLCompatible))
		if p.LoadedAt != nil {
			if lastAtText == nil || *p.LoadedAt != lastAt {
				lastAt = *p.LoadedAt
				lastAtText = time.Unix(lastAt, 0).AppendFormat(lastAtText[:0], loadedAtLayout)
			}
			g.cellBytes(lastAtText)
			g.uint(uint64(*p.UID))
		} else {
			g.cell("-")
			g.cell("-")
		}
		g.bytesCell(uint64(p.BytesXlated))
		if p.BytesJited != nil {
			g.bytesCell(uint64(*p.BytesJited))
		} else {
			g.cell("-")
		}
		g.bytesOrDash(p.BytesMemlock)
		if len(p.MapIDs) > 0 {
			g.buf = appendIDs(g.buf, p.MapIDs)
			g.endCell()
		} else {
			g.cell("-")
		}
		g.idOrDash(p.BTFID)
		holderCells(g, withPins, withPIDs, p.Pinned, p.PIDs)
		g.endRow()
		if len(p.Metadata) > 0 {
			g.afterRow(metadataLines(p.Metadata))
		}
	}
	return g
}

// metadataLines is bpftool's plain metadata of a program: a "metadata:"
// line, then "name = value" lines, values in btf_dumper's plain form.
func metadataLines(vars []objects.MetadataVar) []byte {
	var b bytes.Buffer
	b.WriteString("\tmetadata:")
	for _, m := range vars {
		v, err := btf.FormatValue(m.Type, m.Value, btf.ValuePlain)
		if err != nil {
			v = "(" + err.Error() + ")"
		}
		fmt.Fprintf(&b, "\n\t\t%s = %s", m.Name, v)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func mapGrid(maps []*objects.MapInfo, withPins bool) *grid {
	header := []string{"ID", "TYPE", "NAME", "FLAGS", "KEY", "VALUE", "MAX ENTRIES", "MEMLOCK", "FROZEN", "BTF"}
	header, withPIDs := holderColumns(header, withPins, len(maps), func(i int) []objects.Owner { return maps[i].PIDs })
	g := newGrid(header, len(maps))
	for _, m := range maps {
		g.uint(uint64(m.ID))
		g.buf = append(g.buf, m.Type.String()...)
		if m.OwnerProgType != nil {
			g.buf = append(append(append(g.buf, " (owner "...), m.OwnerProgType.String()...), ')')
		}
		g.endCell()
		g.cell(orDash(m.Name))
		g.buf = strconv.AppendUint(append(g.buf, "0x"...), uint64(m.Flags), 16)
		g.endCell()
		g.bytesCell(uint64(m.BytesKey))
		g.bytesCell(uint64(m.BytesValue))
		g.uint(uint64(m.MaxEntries))
		g.bytesOrDash(m.BytesMemlock)
		g.cell(yesNo(m.Frozen != 0))
		g.idOrDash(m.BTFID)
		holderCells(g, withPins, withPIDs, m.Pinned, m.PIDs)
		g.endRow()
	}
	return g
}

func linkGrid(links []*objects.LinkInfo, withPins bool) *grid {
	header := []string{"ID", "TYPE", "PROG", "DETAILS"}
	header, withPIDs := holderColumns(header, withPins, len(links), func(i int) []objects.Owner { return links[i].PIDs })
	g := newGrid(header, len(links))
	for _, l := range links {
		g.uint(uint64(l.ID))
		g.cell(l.Type.String())
		g.uint(uint64(l.ProgID))
		if len(l.Details) == 0 {
			g.cell("-")
		}
		for i, f := range l.Details {
			if i > 0 {
				g.buf = append(g.buf, "  "...)
			}
			g.buf = append(append(g.buf, f.Key...), ' ')
			g.buf = appendValue(g.buf, f.Value)
		}
		if len(l.Details) > 0 {
			g.endCell()
		}
		holderCells(g, withPins, withPIDs, l.Pinned, l.PIDs)
		g.endRow()
	}
	return g
}

// appendValue appends a link detail as fmt's %v prints it.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return append(b, v...)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case objects.TypeName:
		return append(b, v.String()...)
	}
	return fmt.Append(b, v)
}

// holderColumns adds the optional columns of a table of objects: PINNED
// (with -f) and PIDS (when a process holds any of the n objects; owners(i)
// gives those of object i).
func holderColumns(header []string, withPins bool, n int, owners func(int) []objects.Owner) ([]string, bool) {
	if withPins {
		header = append(header, "PINNED")
	}
	for i := 0; i < n; i++ {
		if len(owners(i)) > 0 {
			return append(header, "PIDS"), true
		}
	}
	return header, false
}

// holderCells adds the cells of the optional columns.
func holderCells(g *grid, withPins, withPIDs bool, pinned *[]string, owners []objects.Owner) {
	if withPins {
		if pinned == nil || len(*pinned) == 0 {
			g.cell("-")
		} else {
			for i, p := range *pinned {
				if i > 0 {
					g.buf = append(g.buf, ',')
				}
				g.buf = append(g.buf, p...)
			}
			g.endCell()
		}
	}
	if withPIDs {
		g.buf = appendOwners(g.buf, owners)
		g.endCell()
	}
}

// appendOwners appends bpftool's plain form of pids: comm(pid),
// comma-separated.
func appendOwners(b []byte, owners []objects.Owner) []byte {
	for i, o := range owners {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(b, o.Comm...), '(')
		b = append(strconv.AppendInt(b, int64(o.PID), 10), ')')
	}
	return b
}

// ownersCell is appendOwners as a cell of its own.
func ownersCell(owners []objects.Owner) string { return string(appendOwners(nil, owners)) }

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

// idOrDash appends an id cell, "-" for 0.
func (g *grid) idOrDash(id uint32) {
	if id == 0 {
		g.cell("-")
	} else {
		g.uint(uint64(id))
	}
}

// bytesOrDash appends a size cell, "-" when it is unknown.
func (g *grid) bytesOrDash(n *int64) {
	if n == nil {
		g.cell("-")
	} else {
		g.buf = append(strconv.AppendInt(g.buf, *n, 10), 'B')
		g.endCell()
	}
}

func appendIDs(b []byte, ids []uint32) []byte {
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(id), 10)
	}
	return b
}

func joinIDs(ids []uint32) string { return string(appendIDs(nil, ids)) }
