package events

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// perfRing is one BPF_OUTPUT perf event and its mmapped ring buffer.
type perfRing struct {
	fd    int
	cpu   int
	index int
	mem   []byte // metadata page + data pages
	data  []byte
}

// perfReader reads the perf rings of a PERF_EVENT_ARRAY the way bpftool's
// event_pipe sets them up: a software BPF_OUTPUT event per CPU with
// sample_type RAW|TIME and wakeup_events 1, stored in the array at key
// index. Unlike cilium/ebpf's reader it keeps the kernel's timestamps and
// lets the ring of one CPU live at any index.
type perfReader struct {
	rings   []*perfRing
	epfd    int
	closeFd int // eventfd that wakes Read on Close
	pending []*Record
	closed  atomic.Bool
	events  []unix.EpollEvent
	// deadline, when set, ends a read with os.ErrDeadlineExceeded.
	deadline time.Time
}

func openPerfRing(m *ebpf.Map, cpu, index, pages int) (*perfRing, error) {
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_SOFTWARE,
		Config:      unix.PERF_COUNT_SW_BPF_OUTPUT,
		Size:        uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample:      1,
		Sample_type: unix.PERF_SAMPLE_RAW | unix.PERF_SAMPLE_TIME,
		Wakeup:      1,
	}
	fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("perf_event_open on CPU %d: %w", cpu, err)
	}
	r := &perfRing{fd: fd, cpu: cpu, index: index}
	ps := os.Getpagesize()
	r.mem, err = unix.Mmap(fd, 0, (1+pages)*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mmap perf ring of CPU %d: %w", cpu, err)
	}
	r.data = r.mem[ps:]
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		r.close()
		return nil, fmt.Errorf("enable perf event on CPU %d: %w", cpu, err)
	}
	if err := m.Update(uint32(index), uint32(fd), ebpf.UpdateAny); err != nil {
		r.close()
		return nil, fmt.Errorf("store perf event of CPU %d at index %d: %w", cpu, index, err)
	}
	return r, nil
}

func (r *perfRing) close() {
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
	unix.Close(r.fd)
}

// head and tail of struct perf_event_mmap_page.
func (r *perfRing) headPtr() *uint64 { return (*uint64)(unsafe.Pointer(&r.mem[1024])) }
func (r *perfRing) tailPtr() *uint64 { return (*uint64)(unsafe.Pointer(&r.mem[1032])) }

// drain parses every record between tail and head.
func (r *perfRing) drain(out []*Record) []*Record {
	head := atomic.LoadUint64(r.headPtr())
	tail := atomic.LoadUint64(r.tailPtr())
	size := uint64(len(r.data))
	read := func(off uint64, n int) []byte {
		b := make([]byte, n)
		for i := 0; i < n; i++ {
			b[i] = r.data[(off+uint64(i))%size]
		}
		return b
	}
	for tail+8 <= head {
		hdr := read(tail, 8)
		typ := binary.LittleEndian.Uint32(hdr[0:4])
		recSize := uint64(binary.LittleEndian.Uint16(hdr[6:8]))
		if recSize < 8 || tail+recSize > head {
			break
		}
		body := read(tail+8, int(recSize-8))
		ev := &Record{CPU: r.cpu, Index: r.index}
		switch typ {
		case perfRecordSample:
			if len(body) >= 12 {
				ev.Time = binary.LittleEndian.Uint64(body[0:8])
				n := int(binary.LittleEndian.Uint32(body[8:12]))
				if 12+n <= len(body) {
					ev.Data = body[12 : 12+n]
				}
			}
			out = append(out, ev)
		case perfRecordLost:
			if len(body) >= 16 {
				ev.Kind = Lost
				ev.LostID = binary.LittleEndian.Uint64(body[0:8])
				ev.Lost = binary.LittleEndian.Uint64(body[8:16])
				out = append(out, ev)
			}
		default:
			ev.Kind = Other
			ev.PerfRecordType = typ
			ev.Data = body
			out = append(out, ev)
		}
		tail += recSize
	}
	atomic.StoreUint64(r.tailPtr(), tail)
	return out
}

func newPerfReader(m *ebpf.Map, opts Options) (*perfReader, error) {
	pages := opts.PerCPUPages
	if pages <= 0 {
		pages = 16
	}
	if pages&(pages-1) != 0 {
		return nil, fmt.Errorf("perf ring size must be a power of two pages, got %d", pages)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	pr := &perfReader{epfd: epfd, closeFd: -1}
	fail := func(err error) (*perfReader, error) {
		pr.release()
		return nil, err
	}
	if pr.closeFd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return fail(fmt.Errorf("eventfd: %w", err))
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, pr.closeFd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1}); err != nil {
		return fail(fmt.Errorf("epoll: %w", err))
	}
	type slot struct{ cpu, index int }
	var slots []slot
	if opts.CPU >= 0 {
		slots = []slot{{opts.CPU, opts.Index}}
	} else {
		ncpu, err := ebpf.PossibleCPU()
		if err != nil {
			return fail(err)
		}
		for cpu := 0; cpu < ncpu && cpu < int(m.MaxEntries()); cpu++ {
			slots = append(slots, slot{cpu, cpu})
		}
	}
	online, _ := onlineCPUs()
	for _, s := range slots {
		if online != nil && !online[s.cpu] {
			continue // as libbpf: skip offline CPUs
		}
		r, err := openPerfRing(m, s.cpu, s.index, pages)
		if err != nil {
			return fail(err)
		}
		pr.rings = append(pr.rings, r)
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, r.fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(len(pr.rings) - 1)}); err != nil {
			return fail(fmt.Errorf("epoll: %w", err))
		}
	}
	if len(pr.rings) == 0 {
		return fail(fmt.Errorf("no online CPU to read"))
	}
	pr.events = make([]unix.EpollEvent, len(pr.rings)+1)
	return pr, nil
}

// onlineCPUs parses /sys/devices/system/cpu/online.
func onlineCPUs() (map[int]bool, error) {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, err
	}
	cpus := map[int]bool{}
	var lo, hi int
	for _, part := range splitComma(string(data)) {
		if n, _ := fmt.Sscanf(part, "%d-%d", &lo, &hi); n == 2 {
			for c := lo; c <= hi; c++ {
				cpus[c] = true
			}
		} else if n, _ := fmt.Sscanf(part, "%d", &lo); n == 1 {
			cpus[lo] = true
		}
	}
	return cpus, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' || s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func (pr *perfReader) read() (*Record, error) {
	for len(pr.pending) == 0 {
		if pr.closed.Load() {
			return nil, ErrClosed
		}
		wait := 200 * time.Millisecond
		if !pr.deadline.IsZero() {
			left := time.Until(pr.deadline)
			if left <= 0 {
				return nil, os.ErrDeadlineExceeded
			}
			wait = min(wait, left)
		}
		n, err := unix.EpollWait(pr.epfd, pr.events, int(wait.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("epoll_wait: %w", err)
		}
		if pr.closed.Load() {
			return nil, ErrClosed
		}
		for _, ev := range pr.events[:n] {
			if ev.Fd >= 0 {
				pr.pending = pr.rings[ev.Fd].drain(pr.pending)
			}
		}
	}
	rec := pr.pending[0]
	pr.pending = pr.pending[1:]
	return rec, nil
}

// close wakes a blocked read; the rings are released by release.
func (pr *perfReader) close() {
	if pr.closed.Swap(true) {
		return
	}
	var one [8]byte
	binary.LittleEndian.PutUint64(one[:], 1)
	unix.Write(pr.closeFd, one[:])
}

func (pr *perfReader) release() {
	for _, r := range pr.rings {
		r.close()
	}
	pr.rings = nil
	if pr.closeFd >= 0 {
		unix.Close(pr.closeFd)
		pr.closeFd = -1
	}
	if pr.epfd >= 0 {
		unix.Close(pr.epfd)
		pr.epfd = -1
	}
}
