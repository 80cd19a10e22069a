package attachments

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects"
)

// PerfAttachment is a program on a perf event (kprobe, uprobe, tracepoint)
// or a raw tracepoint. bpftool's `perf show` finds those through the file
// descriptors of processes (PID, FD); bpfkit adds the perf_event links
// (LinkID), which bpftool misses when no process holds the perf event
// itself, with the processes that hold each link.
type PerfAttachment struct {
	PID    int
	FD     int
	LinkID uint32
	ProgID uint32
	// FDType is bpftool's fd_type: raw_tracepoint, tracepoint, kprobe,
	// kretprobe, uprobe, uretprobe; "event" for perf_event links on
	// hardware or software events.
	FDType string
	// Name is the tracepoint, the probed function ("" for a probe on an
	// address) or the probed file.
	Name   string
	Offset uint64
	Addr   uint64
	// Holders are the processes holding the link.
	Holders []objects.Owner
}

// The values of enum bpf_task_fd_type, by bpftool's names.
var taskFDTypes = []string{"raw_tracepoint", "tracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe"}

// Perf lists the perf event attachments that processes hold, in process
// and descriptor order, then the perf_event links. It asks the kernel
// about each perf event and BPF link descriptor (BPF_TASK_FD_QUERY) in
// one pass over /proc.
func Perf() ([]PerfAttachment, error) {
	if err := probeTaskFDQuery(); err != nil {
		return nil, err
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(procs))
	for _, p := range procs {
		if pid, err := strconv.Atoi(p.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	var out []PerfAttachment
	buf := make([]byte, 4096)
	target := make([]byte, 64)
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or not ours to see
		}
		fds := make([]int, 0, len(ents))
		for _, e := range ents {
			if fd, err := strconv.Atoi(e.Name()); err == nil {
				fds = append(fds, fd)
			}
		}
		slices.Sort(fds)
		for _, fd := range fds {
			n, err := unix.Readlink(dir+strconv.Itoa(fd), target)
			if err != nil {
				continue
			}
			if t := string(target[:n]); t != "anon_inode:[perf_event]" && t != "anon_inode:bpf_link" {
				continue
			}
			q, err := objects.TaskFDQuery(pid, fd, buf)
			if err != nil || int(q.FDType) >= len(taskFDTypes) {
				continue
			}
			out = append(out, PerfAttachment{PID: pid, FD: fd, ProgID: q.ProgID, FDType: taskFDTypes[q.FDType],
				Name: q.Name, Offset: q.ProbeOffset, Addr: q.ProbeAddr})
		}
	}
	links, err := perfLinks()
	if err != nil {
		return nil, err
	}
	return append(out, links...), nil
}

// probeTaskFDQuery checks that the kernel answers BPF_TASK_FD_QUERY, as
// bpftool does first: a query on a plain file fails with ENOTSUPP.
func probeTaskFDQuery() error {
	f, err := os.Open("/")
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = objects.TaskFDQuery(os.Getpid(), int(f.Fd()), make([]byte, 16))
	if errors.Is(err, unix.Errno(524)) { // ENOTSUPP
		return nil
	}
	if err == nil {
		err = errors.New("unexpected answer")
	}
	return fmt.Errorf("the kernel does not answer BPF_TASK_FD_QUERY: %w", objects.PermissionHint(err))
}

// perfLinks lists the perf_event links with the processes holding each.
func perfLinks() ([]PerfAttachment, error) {
	owners, _ := objects.ScanOwners()
	var out []PerfAttachment
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil || info.Type != link.PerfEventType {
			continue
		}
		pe := info.PerfEvent()
		if pe == nil {
			continue
		}
		a := PerfAttachment{PID: -1, FD: -1, LinkID: uint32(info.ID), ProgID: uint32(info.Program)}
		if owners != nil {
			a.Holders = owners.Links[a.LinkID]
		}
		switch pe.Type {
		case objects.PerfEventKprobe, objects.PerfEventKretprobe:
			a.FDType = map[bool]string{false: "kprobe", true: "kretprobe"}[pe.Type == objects.PerfEventKretprobe]
			if k := pe.Kprobe(); k != nil {
				a.Name, a.Offset, a.Addr = k.Function, uint64(k.Offset), k.Address
			}
		case objects.PerfEventUprobe, objects.PerfEventUretprobe:
			a.FDType = map[bool]string{false: "uprobe", true: "uretprobe"}[pe.Type == objects.PerfEventUretprobe]
			if u := pe.Uprobe(); u != nil {
				a.Name, a.Offset = u.File, uint64(u.Offset)
			}
		case objects.PerfEventTP:
			a.FDType = "tracepoint"
			if tp := pe.Tracepoint(); tp != nil {
				a.Name = tp.Tracepoint
			}
		default:
			a.FDType = "event"
		}
		out = append(out, a)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("list links: %w", objects.PermissionHint(err))
	}
	return out, nil
}
