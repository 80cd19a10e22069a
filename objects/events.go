package objects

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// EventKind tells samples from loss reports.
type EventKind int

const (
	// EventSample is a record a program wrote.
	EventSample EventKind = iota
	// EventLost reports records the kernel dropped because the buffer
	// was full.
	EventLost
)

// perf_event_header types, as bpftool's JSON prints them.
const (
	perfRecordLost   = 2
	perfRecordSample = 9
)

// EventRecord is one record read from a perf event array or a ring buffer.
type EventRecord struct {
	Kind EventKind
	// Ring is true for ring buffer records, which have no CPU or index.
	Ring  bool
	CPU   int
	Index int
	// Time is CLOCK_MONOTONIC in nanoseconds when the record was read
	// (cilium/ebpf's perf reader does not request PERF_SAMPLE_TIME).
	Time uint64
	// Data is the raw sample. Perf samples carry the kernel's padding to a
	// multiple of 8 bytes (with the 4-byte size header), as bpftool shows.
	Data []byte
	// Lost is the number of dropped samples for EventLost.
	Lost uint64
}

// PerfType is the perf_event_header type bpftool's JSON prints: 9 for a
// sample, 2 for a loss report.
func (r *EventRecord) PerfType() int {
	if r.Kind == EventLost {
		return perfRecordLost
	}
	return perfRecordSample
}

// EventReader reads records from a perf event array (all CPUs, one ring
// each) or a BPF ring buffer.
//
// Attaching a reader to a buffer another program reads takes its events:
// a perf reader replaces the per-CPU slots of the array, and a ring buffer
// reader advances the shared consumer position.
type EventReader struct {
	perf *perf.Reader
	ring *ringbuf.Reader
	cpu  int // only this CPU's records, or -1
	idx  int
}

// ErrNotEventMap is returned for maps that are neither perf event arrays
// nor ring buffers.
var ErrNotEventMap = errors.New("map is not a perf event array or a ring buffer")

// EventPipeOptions selects the CPU of a perf event array reader.
type EventPipeOptions struct {
	// CPU and Index restrict a perf reader to CPU's ring, stored at key
	// Index (bpftool's `cpu N index M`); -1 means all CPUs at key = CPU.
	CPU, Index int
	// PerCPUPages is the size of each perf ring in pages (default 16,
	// as bpftool).
	PerCPUPages int
}

// OpenEventReader starts reading m.
func OpenEventReader(m *ebpf.Map, opts EventPipeOptions) (*EventReader, error) {
	r := &EventReader{cpu: -1, idx: -1}
	switch m.Type() {
	case ebpf.PerfEventArray:
		if opts.CPU >= 0 || opts.Index >= 0 {
			if opts.CPU != opts.Index {
				return nil, fmt.Errorf("cpu %d index %d: bpfkit stores each CPU's ring at its own index; use cpu N index N", opts.CPU, opts.Index)
			}
			r.cpu, r.idx = opts.CPU, opts.Index
		}
		pages := opts.PerCPUPages
		if pages <= 0 {
			pages = 16
		}
		pr, err := perf.NewReaderWithOptions(m, pages*os.Getpagesize(), perf.ReaderOptions{WakeupEvents: 1})
		if err != nil {
			return nil, fmt.Errorf("open perf buffers: %w", err)
		}
		r.perf = pr
	case ebpf.RingBuf:
		rr, err := ringbuf.NewReader(m)
		if err != nil {
			return nil, fmt.Errorf("open ring buffer: %w", err)
		}
		r.ring = rr
	default:
		return nil, fmt.Errorf("%w: %s", ErrNotEventMap, MapTypeName(m.Type()))
	}
	return r, nil
}

// ErrEventsClosed is returned by Read after Close.
var ErrEventsClosed = errors.New("event reader closed")

func monotonicNow() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return uint64(ts.Sec)*1e9 + uint64(ts.Nsec)
}

// Read blocks until the next record. It returns ErrEventsClosed once
// Close was called.
func (r *EventReader) Read() (*EventRecord, error) {
	if r.ring != nil {
		rec, err := r.ring.Read()
		if errors.Is(err, ringbuf.ErrClosed) {
			return nil, ErrEventsClosed
		}
		if err != nil {
			return nil, fmt.Errorf("read ring buffer: %w", err)
		}
		return &EventRecord{Kind: EventSample, Ring: true, CPU: -1, Index: -1, Time: monotonicNow(), Data: rec.RawSample}, nil
	}
	for {
		rec, err := r.perf.Read()
		if errors.Is(err, perf.ErrClosed) {
			return nil, ErrEventsClosed
		}
		if err != nil {
			return nil, fmt.Errorf("read perf buffer: %w", err)
		}
		if r.cpu >= 0 && rec.CPU != r.cpu {
			continue
		}
		ev := &EventRecord{CPU: rec.CPU, Index: rec.CPU, Time: monotonicNow(), Data: rec.RawSample}
		if r.idx >= 0 {
			ev.Index = r.idx
		}
		if rec.LostSamples > 0 {
			ev.Kind, ev.Lost, ev.Data = EventLost, rec.LostSamples, nil
		}
		return ev, nil
	}
}

// Close stops the reader and unblocks Read.
func (r *EventReader) Close() error {
	if r.ring != nil {
		return r.ring.Close()
	}
	return r.perf.Close()
}
