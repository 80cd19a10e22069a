package loader

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/cilium/ebpf"
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

// source is a map a session reads, with what it read.
type source struct {
	EventSource
	r             *events.Reader
	records, lost atomic.Uint64
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
	sources []*source
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
		if m == nil || (m.Type() != ebpf.RingBuf && m.Type() != ebpf.PerfEventArray) {
			continue
		}
		r, rerr := events.Open(m, events.Options{CPU: -1, Index: -1})
		if rerr != nil {
			return nil, fmt.Errorf("read %s %s: %w", objects.MapTypeName(m.Type()), name, rerr)
		}
		id, _ := objects.Maps.ID(m)
		// The counters exist before the reader starts: a record may be
		// waiting already.
		src := &source{EventSource: EventSource{Map: name, Type: objects.MapTypeName(m.Type()).String(), ID: id}, r: r}
		s.sources = append(s.sources, src)
		s.Sources = append(s.Sources, src.EventSource)
	}
	for _, src := range s.sources {
		s.wg.Add(1)
		go s.read(src)
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

// read forwards src's records until the reader is closed.
func (s *Session) read(src *source) {
	defer s.wg.Done()
	for {
		rec, err := src.r.Read()
		if errors.Is(err, events.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		out := Record{Map: src.Map, CPU: rec.CPU, Data: rec.Data}
		switch rec.Kind {
		case events.Sample:
			src.records.Add(1)
		case events.Lost:
			src.lost.Add(rec.Lost)
			out.Lost = rec.Lost
		default:
			continue
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
	for _, src := range s.sources {
		srcs = append(srcs, SourceSummary{Map: src.Map, Records: src.records.Load(), Lost: src.lost.Load()})
	}
	return progs, srcs
}

// Close detaches every link, stops the readers and unloads the object,
// removing LIBBPF_PIN_BY_NAME pins the session created. It is safe to call
// more than once.
func (s *Session) Close() {
	s.once.Do(func() {
		close(s.done)
		for _, src := range s.sources {
			src.r.Close()
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
