package render

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/ll"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
)

// Tables are plain aligned columns, two spaces apart, with no trailing
// blanks: each cell padded to its column's width, nothing after the last
// non-empty cell of a line, no borders or rules. A row may be followed by
// lines of its own (a program's metadata), printed as they are.
//
// Small tables are laid out by tablewriter with the columns renderer
// below. Lists of thousands of objects are laid out by grid.writeTo,
// which gives the same bytes (TestGridMatchesTablewriter) at a fraction of
// tablewriter's cost: tablewriter v1 allocates about 150 times per row and
// takes tens of milliseconds for 2,000 rows.

// tablewriterRows is the largest table tablewriter lays out.
const tablewriterRows = 100

// table prints rows under header to w.
func table(w io.Writer, header []string, rows [][]string) error {
	g := newGrid(header, len(rows))
	for _, r := range rows {
		for _, c := range r {
			g.cell(c)
		}
		g.endRow()
	}
	return g.writeTo(w)
}

// grid is a table being built: every cell's bytes in one buffer, each
// column's width kept as cells come.
type grid struct {
	header []string
	buf    []byte  // the cells' bytes, one after another
	ends   []int32 // where each cell ends in buf
	widths []int   // the widest cell of each column, header included
	col    int     // the column the next cell goes to
	// after holds the lines printed after a row, by row.
	after map[int][]byte
}

// newGrid starts a table with header and room for about rows rows.
func newGrid(header []string, rows int) *grid {
	g := &grid{header: header, widths: make([]int, len(header))}
	g.ends = make([]int32, 0, rows*len(header))
	g.buf = make([]byte, 0, rows*len(header)*8)
	for i, h := range header {
		g.widths[i] = width(h)
	}
	return g
}

// rows is the number of complete rows.
func (g *grid) rows() int { return len(g.ends) / len(g.header) }

// cell appends the next cell of the current row.
func (g *grid) cell(s string) {
	g.buf = append(g.buf, s...)
	g.endCell()
}

// cellBytes is cell for bytes.
func (g *grid) cellBytes(b []byte) {
	g.buf = append(g.buf, b...)
	g.endCell()
}

// uint appends a number cell.
func (g *grid) uint(v uint64) {
	g.buf = strconv.AppendUint(g.buf, v, 10)
	g.endCell()
}

// bytesCell appends a size cell: "<n>B".
func (g *grid) bytesCell(v uint64) {
	g.buf = append(strconv.AppendUint(g.buf, v, 10), 'B')
	g.endCell()
}

// endCell closes the cell written into buf since the last one.
func (g *grid) endCell() {
	start := 0
	if n := len(g.ends); n > 0 {
		start = int(g.ends[n-1])
	}
	if w := widthBytes(g.buf[start:]); w > g.widths[g.col] {
		g.widths[g.col] = w
	}
	g.ends = append(g.ends, int32(len(g.buf)))
	g.col++
}

// endRow fills the rest of the current row with empty cells.
func (g *grid) endRow() {
	for g.col < len(g.header) {
		g.endCell()
	}
	g.col = 0
}

// afterRow sets the lines printed after the last complete row.
func (g *grid) afterRow(lines []byte) {
	if g.after == nil {
		g.after = map[int][]byte{}
	}
	g.after[g.rows()-1] = lines
}

// row returns the cells of row i.
func (g *grid) row(i int, cells []string) []string {
	cells = cells[:0]
	n := len(g.header)
	for c := 0; c < n; c++ {
		k := i*n + c
		start := 0
		if k > 0 {
			start = int(g.ends[k-1])
		}
		cells = append(cells, string(g.buf[start:g.ends[k]]))
	}
	return cells
}

// writeTo prints the table: through tablewriter when it is small, else
// straight from the grid.
func (g *grid) writeTo(w io.Writer) error {
	if g.rows() <= tablewriterRows {
		return g.tablewriter(w)
	}
	return g.stream(w)
}

// stream lays the grid out itself, as tablewriter would.
func (g *grid) stream(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	pad := strings.Repeat(" ", 64)
	line := func(cell func(int) []byte) {
		last := len(g.header) - 1
		for last >= 0 && len(cell(last)) == 0 {
			last--
		}
		for c := 0; c <= last; c++ {
			b := cell(c)
			bw.Write(b)
			if c == last {
				break
			}
			for n := g.widths[c] + 2 - widthBytes(b); n > 0; n -= len(pad) {
				bw.WriteString(pad[:min(n, len(pad))])
			}
		}
		bw.WriteByte('\n')
	}
	line(func(c int) []byte { return []byte(g.header[c]) })
	n := len(g.header)
	for r := 0; r < g.rows(); r++ {
		line(func(c int) []byte {
			k := r*n + c
			start := 0
			if k > 0 {
				start = int(g.ends[k-1])
			}
			return g.buf[start:g.ends[k]]
		})
		bw.Write(g.after[r])
	}
	return bw.Flush()
}

// tablewriter lays the grid out with tablewriter.
func (g *grid) tablewriter(w io.Writer) error {
	r := &columns{after: g.after}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(r),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
	)
	t.Header(g.header)
	for i := 0; i < g.rows(); i++ {
		if err := t.Append(g.row(i, nil)); err != nil {
			return err
		}
	}
	return t.Render()
}

// width is the number of columns s takes on a terminal.
func width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return twwidth.Width(s)
		}
	}
	return len(s)
}

func widthBytes(b []byte) int {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return twwidth.Width(string(b))
		}
	}
	return len(b)
}

func init() {
	// Table cells are short; tablewriter's width cache costs more in
	// locking than it saves.
	twwidth.SetCacheCapacity(0)
}

// columns is a tablewriter renderer for bpftool-like plain columns: each
// cell padded to its column's width, nothing after the last cell, no
// borders or lines, and the lines that follow each row. It writes through
// one buffer.
type columns struct {
	w     *bufio.Writer
	after map[int][]byte
	row   int
}

func (c *columns) Start(w io.Writer) error {
	c.w = bufio.NewWriter(w)
	return nil
}

func (c *columns) line(cells []string, widths tw.Mapper[int, int]) {
	last := len(cells) - 1
	for last >= 0 && cells[last] == "" {
		last--
	}
	for i := 0; i <= last; i++ {
		c.w.WriteString(cells[i])
		if i < last {
			if pad := widths.Get(i) - twwidth.Width(cells[i]); pad > 0 {
				c.w.WriteString(strings.Repeat(" ", pad))
			}
		}
	}
	c.w.WriteByte('\n')
}

func (c *columns) Header(lines [][]string, ctx tw.Formatting) {
	for _, l := range lines {
		c.line(l, ctx.Row.Widths)
	}
}

func (c *columns) Row(cells []string, ctx tw.Formatting) {
	c.line(cells, ctx.Row.Widths)
	c.w.Write(c.after[c.row])
	c.row++
}

func (c *columns) Footer([][]string, tw.Formatting) {}
func (c *columns) Line(tw.Formatting)               {}
func (c *columns) Logger(*ll.Logger)                {}
func (c *columns) Close() error                     { return c.w.Flush() }

func (c *columns) Config() tw.Rendition {
	return tw.Rendition{
		Borders:  tw.BorderNone,
		Symbols:  tw.NewSymbols(tw.StyleNone),
		Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
	}
}
