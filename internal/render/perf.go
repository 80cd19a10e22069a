package render

import (
	"strconv"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/attachments"
)

// Perf: `perf show`, one row per perf event or raw tracepoint a process
// holds (PID, FD), then per perf_event link (LINK, and the processes
// holding it).
func (p *textPrinter) Perf(ps []attachments.PerfAttachment) error {
	rows := make([][]string, 0, len(ps))
	for _, a := range ps {
		pid, fd, holders := "-", "-", "-"
		if a.LinkID == 0 {
			pid, fd = strconv.Itoa(a.PID), strconv.Itoa(a.FD)
		} else if len(a.Holders) > 0 {
			holders = ownersCell(a.Holders)
		}
		target, offset := perfTarget(a)
		rows = append(rows, []string{pid, fd, idOrDash(a.ProgID), a.FDType, orDash(target), offset, idOrDash(a.LinkID), holders})
	}
	return table(p.w, []string{"PID", "FD", "PROG", "TYPE", "TARGET", "OFFSET", "LINK", "LINK PIDS"}, rows)
}

// perfTarget is what a perf attachment probes, and the offset in it.
func perfTarget(a attachments.PerfAttachment) (string, string) {
	switch a.FDType {
	case "kprobe", "kretprobe":
		if a.Name == "" {
			return "0x" + strconv.FormatUint(a.Addr, 16), "-"
		}
		return a.Name, strconv.FormatUint(a.Offset, 10)
	case "uprobe", "uretprobe":
		return a.Name, strconv.FormatUint(a.Offset, 10)
	}
	return a.Name, "-"
}

// perfJSON is one entry of bpftool's `perf show -j`, and bpfkit's entries
// for perf_event links ("link_id" instead of "pid" and "fd").
type perfJSON struct {
	PID        *int            `json:"pid,omitempty"`
	FD         *int            `json:"fd,omitempty"`
	LinkID     uint32          `json:"link_id,omitempty"`
	ProgID     uint32          `json:"prog_id"`
	FDType     string          `json:"fd_type"`
	Tracepoint *string         `json:"tracepoint,omitempty"`
	Func       *string         `json:"func,omitempty"`
	Filename   *string         `json:"filename,omitempty"`
	Offset     *uint64         `json:"offset,omitempty"`
	Addr       *uint64         `json:"addr,omitempty"`
	PIDs       []objects.Owner `json:"pids,omitempty"`
}

func (p *jsonPrinter) Perf(ps []attachments.PerfAttachment) error {
	out := make([]perfJSON, len(ps))
	for i, a := range ps {
		j := perfJSON{ProgID: a.ProgID, FDType: a.FDType, LinkID: a.LinkID, PIDs: a.Holders}
		if a.LinkID == 0 {
			pid, fd := a.PID, a.FD
			j.PID, j.FD = &pid, &fd
		}
		name, off, addr := a.Name, a.Offset, a.Addr
		switch a.FDType {
		case "raw_tracepoint", "tracepoint":
			j.Tracepoint = &name
		case "kprobe", "kretprobe":
			if name != "" {
				j.Func, j.Offset = &name, &off
			} else {
				j.Addr = &addr
			}
		case "uprobe", "uretprobe":
			j.Filename, j.Offset = &name, &off
		}
		out[i] = j
	}
	return p.print(out)
}
