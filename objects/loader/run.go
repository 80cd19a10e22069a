package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/bpfkit/bpfkit/objects/mapdata"
	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
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
	// EventTypes are --event-type specs, [MAP=]NAME (see EventTypes).
	EventTypes []string
	// KeepSelf keeps the records and trace lines bpfkit itself caused,
	// which the session drops by default (see Session.Own).
	KeepSelf bool
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
	// Type is the type of the map's records, nil when it is unknown (see
	// Session.Decoding).
	Type ebpfbtf.Type
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
	// Own counts the records left out as bpfkit's own (see Session.Own).
	Own uint64
}

// source is a map a session reads, with what it read.
type source struct {
	EventSource
	r                  *events.Reader
	typ                ebpfbtf.Type
	records, lost, own atomic.Uint64
}

// Session is a loaded, attached object whose records are being read. Close
// detaches and unloads everything.
type Session struct {
	Loaded   *Loaded
	Attached []*Attachment
	Skipped  []Skipped
	Sources  []EventSource
	// Decoding is how each source's records are decoded.
	Decoding EventDecoding
	// Warnings are remarks for the user about the object (a --set
	// variable no instruction reads).
	Warnings []string
	// SelfPID is bpfkit's process ID, whose records and trace lines the
	// session leaves out; 0 with KeepSelf.
	SelfPID int

	self      *selfTasks
	ownTraces atomic.Uint64

	records chan Record
	done    chan struct{}
	sources []*source
	stats   io.Closer
	wg      sync.WaitGroup
	once    sync.Once
}

// StartRun is StartRunContext without a context: it cannot be stopped.
func StartRun(obj *Object, opts RunOptions) (*Session, error) {
	return StartRunContext(context.Background(), obj, opts)
}

// StartRunContext loads obj with its globals set, opens a reader on every ring
// buffer and perf event array, then attaches every program by its
// section. Whatever bpfkit needs to read (map IDs, types, the time zone)
// is read before the first program is attached, so that bpfkit causes as
// few of the events it watches as it can. It fails when no program could
// be attached, naming why for each. On any error, and when ctx is done
// before it returns (see Stopped), everything done so far is undone.
func StartRunContext(ctx context.Context, obj *Object, opts RunOptions) (_ *Session, err error) {
	decoding, err := EventTypes(obj, opts.EventTypes)
	if err != nil {
		return nil, err
	}
	obj = obj.copy() // globals are set on a copy: obj stays reusable
	var warnings []string
	for _, kv := range opts.Set {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("set %q: want NAME=VALUE", kv)
		}
		if err := SetVariable(obj.Spec, name, value); err != nil {
			return nil, err
		}
		if w := unreadVariable(obj, name); w != "" {
			warnings = append(warnings, w)
		}
	}
	loaded, err := LoadContext(ctx, obj, opts.Load)
	if err != nil {
		return nil, err
	}
	s := &Session{
		Loaded:   loaded,
		Decoding: decoding,
		Warnings: warnings,
		records:  make(chan Record, 256),
		done:     make(chan struct{}),
	}
	if !opts.KeepSelf {
		s.SelfPID = os.Getpid()
		s.self = newSelfTasks(s.SelfPID)
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

	for _, name := range obj.Maps {
		m := loaded.Collection.Maps[name]
		if m == nil || !isEventMap(m.Type()) {
			continue
		}
		r, rerr := events.Open(m, events.Options{CPU: -1, Index: -1})
		if rerr != nil {
			return nil, fmt.Errorf("read %s %s: %w", objects.MapTypeName(m.Type()), name, rerr)
		}
		id, _ := objects.Maps.ID(m)
		// The counters exist before the reader starts: a record may be
		// waiting already.
		src := &source{EventSource: EventSource{Map: name, Type: objects.MapTypeName(m.Type()).String(), ID: id}, r: r, typ: decoding.Types[name]}
		s.sources = append(s.sources, src)
		s.Sources = append(s.Sources, src.EventSource)
	}
	// Time stamps need the local time zone: load it now, not after attach.
	time.Now().Local().Zone()

	for _, name := range obj.Programs {
		if err := Stopped(ctx); err != nil {
			return nil, err
		}
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
	if len(s.Attached) == 0 {
		var why []string
		for _, k := range s.Skipped {
			why = append(why, fmt.Sprintf("%s (%s): %s", k.Program, k.Section, k.Reason))
		}
		return nil, fmt.Errorf("%w: %s", ErrNothingAttached, strings.Join(why, "; "))
	}
	if err := Stopped(ctx); err != nil {
		return nil, err
	}
	for _, src := range s.sources {
		s.wg.Add(1)
		go s.read(src)
	}
	return s, nil
}

// ErrNothingAttached is returned by StartRun when no program of the
// object could be attached: a run would wait on nothing.
var ErrNothingAttached = errors.New("no program could be attached")

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
		out := Record{Map: src.Map, CPU: rec.CPU, Data: rec.Data, Type: src.typ}
		switch rec.Kind {
		case events.Sample:
			if s.self != nil {
				if pid, ok := pidOf(src.typ, rec.Data); ok && s.self.has(pid) {
					src.own.Add(1)
					continue
				}
			}
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

// RunSummary is what a session reports when it ends.
type RunSummary struct {
	Programs []ProgramSummary
	Sources  []SourceSummary
	// OwnTraces counts the trace_pipe lines left out as bpfkit's own.
	OwnTraces uint64
	// Maps holds the final contents of the object's other maps.
	Maps []MapContents
}

// MapContents is the final contents of one map of a session's object that
// is not an event source: its first elements, or its log2 histograms.
type MapContents struct {
	Layout mapdata.Layout
	// Entries are the first SummaryEntries elements; More counts the
	// rest.
	Entries []*mapdata.Entry
	More    int
	// Hist holds the map's histograms when it looks like a log2
	// histogram (mapdata.HistShapeOf).
	Hist []mapdata.Histogram
	// Err says why the map could not be read.
	Err error
}

// SummaryEntries is how many elements of each map a summary holds.
const SummaryEntries = 32

// Summary reports each program's run count and run time, each source's
// record count and the final contents of the object's other maps (not
// .rodata, which the run set itself, nor maps of programs or maps). Call
// it before Close.
func (s *Session) Summary() RunSummary {
	hooks := map[string]string{}
	for _, a := range s.Attached {
		hooks[a.Program] = a.Hook
	}
	var sum RunSummary
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
		sum.Programs = append(sum.Programs, ps)
	}
	for _, src := range s.sources {
		sum.Sources = append(sum.Sources, SourceSummary{Map: src.Map, Records: src.records.Load(), Lost: src.lost.Load(), Own: src.own.Load()})
	}
	sum.OwnTraces = s.ownTraces.Load()
	for _, name := range s.Loaded.Object.Maps {
		m := s.Loaded.Collection.Maps[name]
		if m == nil || isEventMap(m.Type()) || strings.HasPrefix(name, ".rodata") || name == ".kconfig" ||
			m.Type() == ebpf.ProgramArray || mapdata.IsMapOfMaps(m.Type()) || mapdata.CheckDumpable(m.Type()) != nil {
			continue
		}
		sum.Maps = append(sum.Maps, finalContents(m))
	}
	return sum
}

// finalContents reads one map for the summary.
func finalContents(m *ebpf.Map) MapContents {
	var mc MapContents
	l, _, err := mapdata.LayoutOf(m)
	mc.Layout = l
	if err != nil {
		mc.Err = err
		return mc
	}
	shape, _ := mapdata.HistShapeOf(l, false)
	var all []*mapdata.Entry
	err = mapdata.Dump(m, nil, func(e *mapdata.Entry) error {
		if shape != mapdata.NotHist || len(mc.Entries) < SummaryEntries {
			all = append(all, e.Clone())
			if shape == mapdata.NotHist {
				mc.Entries = all
			}
		} else {
			mc.More++
		}
		return nil
	})
	if err != nil {
		mc.Err = err
		return mc
	}
	if shape != mapdata.NotHist {
		mc.Hist, mc.Err = mapdata.Histograms(l, shape, all)
	}
	return mc
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
