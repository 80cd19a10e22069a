package stats

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/bpfkit/bpfkit/objects"
)

// Column is a column of `prog top` that programs sort by.
type Column int

// The columns, in the order prog top shows them.
const (
	ByID Column = iota
	ByType
	ByName
	ByEvents   // events per second
	ByAvg      // average run time over the interval
	ByTotalAvg // average run time since statistics were on
	ByCPU      // share of the CPUs
	ByRuns     // run count since load
	columnCount
)

// columnNames are the words `sort COLUMN` takes, by Column.
var columnNames = [columnCount]string{"id", "type", "name", "events", "avg", "total_avg", "cpu", "runs"}

// Columns returns every column, in the order prog top shows them.
func Columns() []Column {
	cols := make([]Column, columnCount)
	for i := range cols {
		cols[i] = Column(i)
	}
	return cols
}

// String returns the word `sort` takes for the column.
func (c Column) String() string {
	if c >= 0 && c < columnCount {
		return columnNames[c]
	}
	return fmt.Sprintf("Column(%d)", int(c))
}

// ParseColumn returns the column a word (or a unique prefix of it) names.
func ParseColumn(word string) (Column, error) {
	name, ok := objects.MatchPrefix(word, columnNames[:]...)
	if !ok {
		return 0, fmt.Errorf("unknown column '%s': expected %s", word, strings.Join(columnNames[:], ", "))
	}
	return Column(slices.Index(columnNames[:], name)), nil
}

// Numeric reports whether the column holds a measure, which sorts largest
// first; ids, types and names sort in increasing order.
func (c Column) Numeric() bool { return c >= ByEvents }

// Sort sorts programs by column c, largest measure first (smallest id or
// name first), or the other way round when reverse is set. Ties keep
// increasing ids.
func Sort(progs []ProgramRate, c Column, reverse bool) {
	desc := c.Numeric() != reverse
	slices.SortStableFunc(progs, func(a, b ProgramRate) int {
		r := compareBy(c, &a, &b)
		if desc {
			r = -r
		}
		if r == 0 {
			r = cmp.Compare(a.ID, b.ID)
		}
		return r
	})
}

func compareBy(c Column, a, b *ProgramRate) int {
	switch c {
	case ByType:
		return cmp.Compare(a.Type.String(), b.Type.String())
	case ByName:
		return cmp.Compare(a.Name, b.Name)
	case ByEvents:
		return cmp.Compare(a.EventsPerSecond, b.EventsPerSecond)
	case ByAvg:
		return cmp.Compare(a.AvgRunTimeNs, b.AvgRunTimeNs)
	case ByTotalAvg:
		return cmp.Compare(a.TotalAvgRunTimeNs, b.TotalAvgRunTimeNs)
	case ByCPU:
		return cmp.Compare(a.CPUPercent, b.CPUPercent)
	case ByRuns:
		return cmp.Compare(a.RunCnt, b.RunCnt)
	}
	return cmp.Compare(a.ID, b.ID)
}
