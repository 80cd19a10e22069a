package loader

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// RunOptions configure a run session: bpfkit run's flags.
type RunOptions struct {
	Load LoadOptions
	// Set holds NAME=VALUE assignments to global variables, applied
	// before load (see SetVariable).
	Set    []string
	Attach AttachOptions
	// NoStats leaves the kernel's run-time statistics alone; by default
	// the session turns them on while it runs so the summary has run
	// counts and run times.
	NoStats bool
}

// Skipped is a program a session loaded but did not attach.
type Skipped struct {
	Program string
	Section string
	Reason  string
}

// EventSource is a map a session reads records from.
type EventSource struct {
	Map  string
	Type string // "ringbuf" or "perf_event_array"
	ID   uint32
}

// Record is one record from a ring buffer or perf event array. Lost, when
// non-zero, reports perf samples the kernel dropped instead of data.
type Record struct {
	Map  string
	CPU  int // -1 for ring buffers
	Data []byte
	Lost uint64
}

// ProgramSummary is what a session reports for one program on exit.
type ProgramSummary struct {
	Name     string
	ID       uint32
	Type     string
	Hook     string // empty when not attached
	RunCount uint64
	RunTime  time.Duration
	// Stats is false when the kernel gave no run statistics.
	Stats bool
}

// SourceSummary counts what a session read from one map.
type SourceSummary struct {
	Map     string
	Records uint64
	Lost    uint64
}

// Session is a loaded, attached object whose records are being read. Close
// detaches and unloads everything.
type Session struct {
	Loaded   *Loaded
	Attached []*Attachment
	Skipped  []Skipped
	Sources  []EventSource

	records chan Record
	done    chan struct{}
	readers []io.Closer
	counts  map[string]*[2]atomic.Uint64
	stats   io.Closer
	wg      sync.WaitGroup
	once    sync.Once
}

// StartRun loads obj with its globals set, attaches every program by its
// section and starts reading every ring buffer and perf event array. On
// any error everything done so far is undone.
func StartRun(obj *Object, opts RunOptions) (_ *Session, err error) {
	obj = obj.copy() // globals are set on a copy: obj stays reusable
	for _, kv := range opts.Set {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("set %q: want NAME=VALUE", kv)
		}
		if err := SetVariable(obj.Spec, name, value); err != nil {
			return nil, err
		}
	}
	loaded, err := Load(obj, opts.Load)
	if err != nil {
		return nil, err
	}
	s := &Session{
		Loaded:  loaded,
		records: make(chan Record, 256),
		done:    make(chan struct{}),
		counts:  map[string]*[2]atomic.Uint64{},
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if !opts.NoStats {
		// Stats stay on only while the returned fd is open.
		if c, serr := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME)); serr == nil {
			s.stats = c
		}
	}

	for _, name := range obj.Programs {
		ps := obj.Spec.Programs[name]
		a, aerr := AttachBySection(ps, loaded.Collection.Programs[name], opts.Attach)
		if aerr != nil {
			if errors.Is(aerr, ErrNoAutoAttach) {
				s.Skipped = append(s.Skipped, Skipped{Program: name, Section: ps.SectionName, Reason: aerr.Error()})
				continue
			}
			if errors.Is(aerr, ErrNeedsTarget) {
				return nil, fmt.Errorf("program %s: %w", name, aerr)
			}
			return nil, aerr
		}
		s.Attached = append(s.Attached, a)
	}

	for _, name := range obj.Maps {
		m := loaded.Collection.Maps[name]
		if m == nil {
			continue
		}
		var rd io.Closer
		var kind string
		switch m.Type() {
		case ebpf.RingBuf:
			r, rerr := ringbuf.NewReader(m)
			if rerr != nil {
				return nil, fmt.Errorf("read ring buffer %s: %w", name, rerr)
			}
			rd, kind = r, "ringbuf"
			s.wg.Add(1)
			go s.readRing(name, r)
		case ebpf.PerfEventArray:
			r, rerr := perf.NewReader(m, 16*os.Getpagesize())
			if rerr != nil {
				return nil, fmt.Errorf("read perf event array %s: %w", name, rerr)
			}
			rd, kind = r, "perf_event_array"
			s.wg.Add(1)
			go s.readPerf(name, r)
		default:
			continue
		}
		s.readers = append(s.readers, rd)
		s.counts[name] = new([2]atomic.Uint64)
		s.Sources = append(s.Sources, EventSource{Map: name, Type: kind, ID: mapID(m)})
	}
	return s, nil
}

// Records delivers the records read from every source. It is closed by
// Close.
func (s *Session) Records() <-chan Record { return s.records }

func (s *Session) send(r Record) bool {
	select {
	case s.records <- r:
		return true
	case <-s.done:
		return false
	}
}

func (s *Session) readRing(name string, r *ringbuf.Reader) {
	defer s.wg.Done()
	for {
		rec, err := r.Read()
		if err != nil {
			return // closed
		}
		s.counts[name][0].Add(1)
		if !s.send(Record{Map: name, CPU: -1, Data: rec.RawSample}) {
			return
		}
	}
}

func (s *Session) readPerf(name string, r *perf.Reader) {
	defer s.wg.Done()
	for {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, perf.ErrClosed) {
				return
			}
			continue
		}
		out := Record{Map: name, CPU: rec.CPU, Data: rec.RawSample, Lost: rec.LostSamples}
		if rec.LostSamples > 0 {
			s.counts[name][1].Add(rec.LostSamples)
		} else {
			s.counts[name][0].Add(1)
		}
		if !s.send(out) {
			return
		}
	}
}

// Summary reports each program's run count and run time and each source's
// record count. Call it before Close.
func (s *Session) Summary() ([]ProgramSummary, []SourceSummary) {
	hooks := map[string]string{}
	for _, a := range s.Attached {
		hooks[a.Program] = a.Hook
	}
	var progs []ProgramSummary
	for _, name := range s.Loaded.Object.Programs {
		p := s.Loaded.Collection.Programs[name]
		ps := ProgramSummary{Name: name, Hook: hooks[name], Type: objects.ProgTypeName(p.Type()).String()}
		if info, err := p.Info(); err == nil {
			if id, ok := info.ID(); ok {
				ps.ID = uint32(id)
			}
		}
		if st, err := p.Stats(); err == nil {
			ps.RunCount, ps.RunTime, ps.Stats = st.RunCount, st.Runtime, true
		}
		progs = append(progs, ps)
	}
	var srcs []SourceSummary
	for _, src := range s.Sources {
		c := s.counts[src.Map]
		srcs = append(srcs, SourceSummary{Map: src.Map, Records: c[0].Load(), Lost: c[1].Load()})
	}
	return progs, srcs
}

// Close detaches every link, stops the readers and unloads the object,
// removing LIBBPF_PIN_BY_NAME pins the session created. It is safe to call
// more than once.
func (s *Session) Close() {
	s.once.Do(func() {
		close(s.done)
		for _, r := range s.readers {
			r.Close()
		}
		s.wg.Wait()
		close(s.records)
		for _, a := range s.Attached {
			a.Link.Close()
		}
		if s.stats != nil {
			s.stats.Close()
		}
		s.Loaded.Unload()
	})
}
