package top

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/charmbracelet/x/ansi"

	"github.com/bpfkit/bpfkit/objects/stats"
)

// Source gives the next interval: it blocks until the interval ends, and
// returns io.EOF after the last.
type Source func(context.Context) (*stats.Interval, error)

// Options say what the live view shows in its title line and how it sorts
// first.
type Options struct {
	Interval time.Duration
	Sort     stats.Column
	// Stats says how statistics are kept on, for the title line.
	Stats string
}

// historySpan is how far back the graph of the selected program goes.
const historySpan = time.Minute

// point is one interval of a program, for its graph.
type point struct {
	at          time.Time
	cpu, events float64
	avg         float64
}

// The messages of the view's event loop.
type (
	intervalMsg struct{ iv *stats.Interval }
	errMsg      struct{ err error }
)

// model is the live view's state: the latest interval, how it is sorted,
// which program is selected (by id, so that the selection follows the
// program when the order changes) and every program's last minute.
type model struct {
	ctx  context.Context
	next Source
	opts Options

	iv       *stats.Interval
	sort     stats.Column
	reverse  bool
	selected uint32
	offset   int
	history  map[uint32][]point

	width, height int
	err           error
}

func newModel(ctx context.Context, next Source, opts Options) *model {
	return &model{ctx: ctx, next: next, opts: opts, sort: opts.Sort, history: map[uint32][]point{}, width: 80, height: 24}
}

// fetch waits for the next interval in a command of its own, so that keys
// are handled meanwhile.
func (m *model) fetch() tea.Msg {
	iv, err := m.next(m.ctx)
	if err != nil {
		return errMsg{err}
	}
	return intervalMsg{iv}
}

func (m *model) Init() tea.Cmd { return m.fetch }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case intervalMsg:
		m.add(msg.iv)
		return m, m.fetch
	case errMsg:
		m.err = msg.err
		return m, tea.Quit
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	return m, nil
}

// add takes in an interval: it sorts it, records each program's point and
// forgets programs gone for longer than the graph shows.
func (m *model) add(iv *stats.Interval) {
	m.iv = iv
	stats.Sort(iv.Programs, m.sort, m.reverse)
	for _, p := range iv.Programs {
		m.history[p.ID] = append(m.history[p.ID], point{at: iv.Time, cpu: p.CPUPercent, events: p.EventsPerSecond, avg: float64(p.AvgRunTimeNs)})
	}
	for id, pts := range m.history {
		i := 0
		for i < len(pts) && iv.Time.Sub(pts[i].at) > historySpan {
			i++
		}
		if i == len(pts) {
			delete(m.history, id)
		} else {
			m.history[id] = pts[i:]
		}
	}
	if m.cursor() < 0 && len(iv.Programs) > 0 {
		m.selected = iv.Programs[0].ID
	}
}

// cursor is the row of the selected program, -1 when it is not shown.
func (m *model) cursor() int {
	if m.iv == nil {
		return -1
	}
	return slices.IndexFunc(m.iv.Programs, func(p stats.ProgramRate) bool { return p.ID == m.selected })
}

// The keys, as the help line shows them.
const help = "↑/↓ select  s/S next/previous sort column  r reverse  q quit"

func (m *model) key(k tea.KeyMsg) tea.Cmd {
	switch k.String() {
	case "q", "ctrl+c", "esc":
		return tea.Quit
	case "up", "k":
		m.move(-1)
	case "down", "j":
		m.move(1)
	case "pgup":
		m.move(-m.tableRows())
	case "pgdown":
		m.move(m.tableRows())
	case "home", "g":
		m.move(-1 << 30)
	case "end", "G":
		m.move(1 << 30)
	case "s", "right", ">":
		m.sortBy((m.sort + 1) % stats.Column(len(stats.Columns())))
	case "S", "left", "<":
		n := stats.Column(len(stats.Columns()))
		m.sortBy((m.sort + n - 1) % n)
	case "r":
		m.reverse = !m.reverse
		m.resort()
	}
	return nil
}

func (m *model) sortBy(c stats.Column) {
	m.sort, m.reverse = c, false
	m.resort()
}

func (m *model) resort() {
	if m.iv != nil {
		stats.Sort(m.iv.Programs, m.sort, m.reverse)
	}
}

func (m *model) move(by int) {
	if m.iv == nil || len(m.iv.Programs) == 0 {
		return
	}
	i := min(max(m.cursor()+by, 0), len(m.iv.Programs)-1)
	m.selected = m.iv.Programs[i].ID
}

// The parts of the screen around the table: the title line, the graph of
// the selected program (a title and three graphs of graphHeight lines)
// and the help line.
const (
	graphHeight = 2
	chrome      = 1 + 1 + 3*graphHeight + 1
)

// tableRows is how many programs fit on the screen below the header.
func (m *model) tableRows() int { return max(m.height-chrome-1, 1) }

var (
	titleStyle    = lipgloss.NewStyle().Bold(true)
	headerStyle   = lipgloss.NewStyle().Bold(true).Reverse(true)
	selectedStyle = lipgloss.NewStyle().Reverse(true)
	dimStyle      = lipgloss.NewStyle().Faint(true)
)

func (m *model) View() string {
	var b strings.Builder
	b.WriteString(m.line(titleStyle.Render(m.title())))
	b.WriteByte('\n')
	if m.iv == nil {
		b.WriteString(m.line(fmt.Sprintf("Waiting %s for the first interval...", m.opts.Interval)))
		b.WriteByte('\n')
		b.WriteString(dimStyle.Render(m.line(help)))
		return b.String()
	}
	b.WriteString(m.table())
	b.WriteByte('\n')
	b.WriteString(m.graphs())
	b.WriteString(dimStyle.Render(m.line(help)))
	return b.String()
}

func (m *model) title() string {
	s := fmt.Sprintf("bpfkit prog top - every %s, statistics by %s", m.opts.Interval, m.opts.Stats)
	if m.iv != nil {
		s += fmt.Sprintf(" - %s - %d programs, %d CPUs", m.iv.Time.Format("15:04:05"), len(m.iv.Programs), m.iv.CPUs)
	}
	return s
}

// line cuts s to the width of the screen.
func (m *model) line(s string) string { return ansi.Truncate(s, m.width, "") }

// table draws the rows that fit, scrolled so that the selected one shows,
// with an arrow on the sorted column.
func (m *model) table() string {
	rows := m.tableRows()
	cur := max(m.cursor(), 0)
	if cur < m.offset {
		m.offset = cur
	} else if cur >= m.offset+rows {
		m.offset = cur - rows + 1
	}
	m.offset = max(min(m.offset, len(m.iv.Programs)-rows), 0)
	visible := m.iv.Programs[m.offset:min(m.offset+rows, len(m.iv.Programs))]
	header := slices.Clone(Header)
	arrow := "▼"
	if m.sort.Numeric() == m.reverse {
		arrow = "▲"
	}
	header[m.sort] += arrow
	t := table.New().
		Border(lipgloss.HiddenBorder()).
		BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).BorderHeader(false).
		Wrap(false).
		Headers(header...).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := lipgloss.NewStyle()
			if col >= int(stats.ByEvents) && col < len(Header)-1 {
				s = s.Align(lipgloss.Right)
			}
			switch {
			case row == table.HeaderRow:
				return s.Inherit(headerStyle)
			case m.offset+row == cur:
				return s.Inherit(selectedStyle)
			}
			return s
		})
	for i := range visible {
		t.Row(Row(&visible[i])...)
	}
	lines := strings.Split(t.Render(), "\n")
	for i := range lines {
		lines[i] = m.line(lines[i])
	}
	return strings.Join(lines, "\n")
}

// graphs draws the selected program's last minute: CPU %, events per
// second and average run time, each graph as wide as the screen allows.
func (m *model) graphs() string {
	cur := m.cursor()
	if cur < 0 {
		return strings.Repeat("\n", chrome-2)
	}
	p := m.iv.Programs[cur]
	pts := m.history[p.ID]
	width := max(m.width-24, 1)
	if len(pts) > width {
		pts = pts[len(pts)-width:]
	}
	var b strings.Builder
	span := time.Duration(0)
	if len(pts) > 0 {
		span = pts[len(pts)-1].at.Sub(pts[0].at).Round(time.Second)
	}
	b.WriteString(m.line(titleStyle.Render(fmt.Sprintf("%d %s over the last %s", p.ID, p.Name, span))))
	b.WriteByte('\n')
	for _, g := range []struct {
		name  string
		value func(point) float64
		unit  string
	}{
		{"CPU %", func(p point) float64 { return p.cpu }, "%.3f"},
		{"EVENTS/S", func(p point) float64 { return p.events }, "%.1f"},
		{"AVG NS", func(p point) float64 { return p.avg }, "%.0f"},
	} {
		values := make([]float64, len(pts))
		top := 0.0
		for i, pt := range pts {
			values[i] = g.value(pt)
			top = max(top, values[i])
		}
		for i, l := range graph(values, graphHeight) {
			label := ""
			switch i {
			case 0:
				label = g.name
			case graphHeight - 1:
				label = "max " + fmt.Sprintf(g.unit, top)
			}
			b.WriteString(m.line(fmt.Sprintf("%-22s %s", label, l)))
			b.WriteByte('\n')
		}
	}
	return b.String()
}
