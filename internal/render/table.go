package render

import (
	"bufio"
	"io"
	"strings"

	"github.com/olekukonko/ll"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
)

// table prints rows under header to w as plain aligned columns, two
// spaces apart, with no trailing blanks. tablewriter lays the table out;
// the columns renderer below writes it.
func table(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(&columns{}),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
	)
	t.Header(header)
	for _, r := range rows {
		// tablewriter keeps the slice it is given: pass a copy.
		if err := t.Append(append([]string(nil), r...)); err != nil {
			return err
		}
	}
	return t.Render()
}

func init() {
	// Table cells are short; tablewriter's width cache costs more in
	// locking than it saves (a 2,000-row prog list renders 25% faster
	// without it).
	twwidth.SetCacheCapacity(0)
}

// columns is a tablewriter renderer for bpftool-like plain columns: each
// cell padded to its column's width, nothing after the last cell, no
// borders or lines. It writes through one buffer, which makes long
// listings about twice as fast as tablewriter's general renderer.
type columns struct{ w *bufio.Writer }

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

func (c *columns) Row(cells []string, ctx tw.Formatting) { c.line(cells, ctx.Row.Widths) }
func (c *columns) Footer([][]string, tw.Formatting)      {}
func (c *columns) Line(tw.Formatting)                    {}
func (c *columns) Logger(*ll.Logger)                     {}
func (c *columns) Close() error                          { return c.w.Flush() }

func (c *columns) Config() tw.Rendition {
	return tw.Rendition{
		Borders:  tw.BorderNone,
		Symbols:  tw.NewSymbols(tw.StyleNone),
		Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
	}
}
