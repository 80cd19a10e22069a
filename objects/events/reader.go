package events

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// Kind tells samples from loss reports.
type Kind int

const (
	// Sample is a record a program wrote.
	Sample Kind = iota
	// Lost reports records the kernel dropped because the buffer
	// was full.
	Lost
	// Other is a perf record of another type (PerfRecordType).
	Other
)

// perf_event_header types, as bpftool's JSON prints them.
const (
	perfRecordLost   = 2
	perfRecordSample = 9
)

// Record is one record read from a perf event array or a ring buffer.
type Record struct {
	Kind Kind
	// Ring is true for ring buffer records, which have no CPU or index.
	Ring  bool
	CPU   int
	Index int
	// Time is the perf sample's timestamp (the kernel's perf clock) in
	// nanoseconds; for ring buffer records, which carry none, it is
	// CLOCK_MONOTONIC when the record was read.
	Time uint64
	// Data is the raw sample. Perf samples carry the kernel's padding to a
	// multiple of 8 bytes (with the 4-byte size header), as bpftool shows.
	Data []byte
	// Lost is the number of dropped samples for Lost, LostID the id
	// of the event that lost them.
	Lost   uint64
	LostID uint64
	// PerfRecordType is the perf_event_header type of an Other.
	PerfRecordType uint32
}

// PerfType is the perf_event_header type bpftool's JSON prints: 9 for a
// sample, 2 for a loss report.
func (r *Record) PerfType() int {
	switch r.Kind {
	case Lost:
		return perfRecordLost
	case Other:
		return int(r.PerfRecordType)
	}
	return perfRecordSample
}

// Reader reads records from a perf event array (all CPUs, one ring
// each) or a BPF ring buffer.
//
// Attaching a reader to a buffer another program reads takes its events:
// a perf reader replaces the per-CPU slots of the array, and a ring buffer
// reader advances the shared consumer position.
type Reader struct {
	mu   sync.Mutex // held by Read; Close takes it to release the rings
	perf *perfReader
	ring *ringbuf.Reader
}

// ErrNotEventMap is returned for maps that are neither perf event arrays
// nor ring buffers.
var ErrNotEventMap = errors.New("map is not a perf event array or a ring buffer")

// Options selects the CPU of a perf event array reader.
type Options struct {
	// CPU and Index restrict a perf reader to CPU's ring, stored at key
	// Index (bpftool's `cpu N index M`); -1 means every CPU at key = CPU.
	CPU, Index int
	// PerCPUPages is the size of each perf ring in pages, a power of two
	// (default 16, as bpftool).
	PerCPUPages int
}

// Open starts reading m.
func Open(m *ebpf.Map, opts Options) (*Reader, error) {
	r := &Reader{}
	switch m.Type() {
	case ebpf.PerfEventArray:
		if (opts.CPU >= 0) != (opts.Index >= 0) {
			return nil, fmt.Errorf("cpu and index must be given together")
		}
		pr, err := newPerfReader(m, opts)
		if err != nil {
			return nil, err
		}
		r.perf = pr
	case ebpf.RingBuf:
		if opts.CPU >= 0 || opts.Index >= 0 {
			return nil, errors.New("cpu and index apply to perf event arrays: a ring buffer has one ring for all CPUs")
		}
		rr, err := ringbuf.NewReader(m)
		if err != nil {
			return nil, fmt.Errorf("open ring buffer: %w", err)
		}
		r.ring = rr
	default:
		return nil, fmt.Errorf("%w: %s", ErrNotEventMap, objects.MapTypeName(m.Type()))
	}
	return r, nil
}

// ErrClosed is returned by Read after Close.
var ErrClosed = errors.New("event reader closed")

func monotonicNow() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return uint64(ts.Sec)*1e9 + uint64(ts.Nsec)
}

// Read blocks until the next record. It returns ErrClosed once
// Close was called.
func (r *Reader) Read() (*Record, error) {
	if r.ring != nil {
		rec, err := r.ring.Read()
		if errors.Is(err, ringbuf.ErrClosed) {
			return nil, ErrClosed
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("read ring buffer: %w", err)
		}
		return &Record{Kind: Sample, Ring: true, CPU: -1, Index: -1, Time: monotonicNow(), Data: rec.RawSample}, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perf.epfd < 0 {
		return nil, ErrClosed
	}
	return r.perf.read()
}

// SetDeadline makes Read return os.ErrDeadlineExceeded once t has passed
// with no record; the zero time means no deadline.
func (r *Reader) SetDeadline(t time.Time) {
	if r.ring != nil {
		r.ring.SetDeadline(t)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.perf.deadline = t
}

// Close stops the reader and unblocks Read. It may be called from another
// goroutine and more than once.
func (r *Reader) Close() error {
	if r.ring != nil {
		return r.ring.Close()
	}
	r.perf.close()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.perf.release()
	return nil
}
