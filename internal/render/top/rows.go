package top

import (
	"strconv"
	"strings"

	"github.com/bpfkit/bpfkit/objects/stats"
)

// Header is the title of each column, in stats.Columns order, then PIDS.
var Header = []string{"ID", "TYPE", "NAME", "EVENTS/S", "AVG NS", "TOTAL AVG NS", "CPU %", "RUNS", "PIDS"}

// Row returns the cells of one program's row.
func Row(r *stats.ProgramRate) []string {
	name := r.Name
	if name == "" {
		name = "-"
	}
	return []string{
		strconv.FormatUint(uint64(r.ID), 10),
		r.Type.String(),
		name,
		strconv.FormatFloat(r.EventsPerSecond, 'f', 1, 64),
		strconv.FormatUint(r.AvgRunTimeNs, 10),
		strconv.FormatUint(r.TotalAvgRunTimeNs, 10),
		strconv.FormatFloat(r.CPUPercent, 'f', 3, 64),
		strconv.FormatUint(r.RunCnt, 10),
		pids(r),
	}
}

// Rows returns the cells of every program of an interval.
func Rows(iv *stats.Interval) [][]string {
	rows := make([][]string, len(iv.Programs))
	for i := range iv.Programs {
		rows[i] = Row(&iv.Programs[i])
	}
	return rows
}

// pids is the processes holding the program as bpftool's plain text
// writes them, comm(pid) comma-separated, or "-".
func pids(r *stats.ProgramRate) string {
	if len(r.PIDs) == 0 {
		return "-"
	}
	s := make([]string, len(r.PIDs))
	for i, o := range r.PIDs {
		s[i] = o.Comm + "(" + strconv.Itoa(o.PID) + ")"
	}
	return strings.Join(s, ",")
}
