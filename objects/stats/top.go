package stats

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bpfkit/bpfkit/objects"
)

// ProgramRate is one program over one interval of `prog top`: its
// counters since load and what they did during the interval.
type ProgramRate struct {
	ID   uint32           `json:"id"`
	Type objects.TypeName `json:"type"`
	Name string           `json:"name"`
	Tag  string           `json:"tag"`
	// RunCnt and RunTimeNs are the kernel's counters, cumulative since
	// the program was loaded (they grow only while statistics are on).
	RunCnt    uint64 `json:"run_cnt"`
	RunTimeNs uint64 `json:"run_time_ns"`
	// EventsPerSecond is the runs of the interval per second.
	EventsPerSecond float64 `json:"events_per_second"`
	// AvgRunTimeNs is the average run time of the interval's runs, 0
	// when it had none.
	AvgRunTimeNs uint64 `json:"avg_run_time_ns"`
	// TotalAvgRunTimeNs is RunTimeNs / RunCnt.
	TotalAvgRunTimeNs uint64 `json:"-"`
	// CPUPercent is the program's share of the CPU time the interval
	// offered: run time / interval / online CPUs, in percent.
	CPUPercent float64 `json:"cpu_percent"`
	// PIDs are the processes holding the program; never nil.
	PIDs []objects.Owner `json:"pids"`
}

// Interval is what `prog top` shows after each interval.
type Interval struct {
	// Time is when the interval ended (its closing sample).
	Time time.Time `json:"time"`
	// Duration is the time between the interval's two samples, the
	// denominator of every rate.
	Duration time.Duration `json:"interval_ns"`
	// CPUs is the number of CPUs online.
	CPUs     int           `json:"-"`
	Programs []ProgramRate `json:"programs"`
}

// TopOptions are the arguments of `prog top`.
type TopOptions struct {
	// Interval is the time between samples.
	Interval time.Duration
	// Count is the number of intervals to give, 0 for no end.
	Count int
	// Select picks programs; none picks every program. Programs that a
	// tag or name selects may come and go.
	Select []objects.Selector
	// Sort orders each interval's programs.
	Sort Column
}

// MinInterval is the shortest interval Top takes: reading every program
// takes milliseconds, and a shorter interval would mostly measure that.
const MinInterval = 100 * time.Millisecond

// Top samples every program's counters once per interval and gives each
// interval's rates. It reads the kernel afresh at each sample; programs
// loaded during an interval count from zero, and programs unloaded
// during one drop out.
type Top struct {
	opts TopOptions
	cpus int
	// ids are the programs selected by id or pin.
	ids  map[uint32]bool
	prev *sample
	next time.Time
	done int
}

// sample is every selected program at one moment.
type sample struct {
	at    time.Time
	progs []*objects.ProgramInfo
}

// NewTop checks the options and takes the first sample. Each selector
// must match a program now.
func NewTop(opts TopOptions) (*Top, error) {
	if opts.Interval < MinInterval {
		return nil, fmt.Errorf("interval %s is too short: at least %s", opts.Interval, MinInterval)
	}
	if opts.Count < 0 {
		return nil, fmt.Errorf("count %d: want 0 or more", opts.Count)
	}
	cpus, err := OnlineCPUs()
	if err != nil {
		return nil, err
	}
	t := &Top{opts: opts, cpus: cpus, ids: map[uint32]bool{}}
	for _, sel := range opts.Select {
		switch sel.Kind {
		case objects.SelectID:
			t.ids[sel.ID] = true
		case objects.SelectPinned:
			p, err := objects.Programs.OpenOne(sel)
			if err != nil {
				return nil, err
			}
			id, err := objects.Programs.ID(p)
			p.Close()
			if err != nil {
				return nil, fmt.Errorf("program pinned at %s: %w", sel.Value, err)
			}
			t.ids[id] = true
		}
	}
	if t.prev, err = t.sample(); err != nil {
		return nil, err
	}
	for _, sel := range opts.Select {
		if !t.anyMatch(sel) {
			return nil, fmt.Errorf("no program with %s", sel)
		}
	}
	t.next = t.prev.at.Add(opts.Interval)
	return t, nil
}

// CPUs returns the number of CPUs online.
func (t *Top) CPUs() int { return t.cpus }

// Next waits for the end of the next interval and returns it; io.EOF
// after Count intervals, ctx's error when ctx ends first.
func (t *Top) Next(ctx context.Context) (*Interval, error) {
	if t.opts.Count > 0 && t.done >= t.opts.Count {
		return nil, io.EOF
	}
	wait := time.NewTimer(time.Until(t.next))
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-wait.C:
	}
	cur, err := t.sample()
	if err != nil {
		return nil, err
	}
	iv := rates(t.prev, cur, t.cpus)
	Sort(iv.Programs, t.opts.Sort, false)
	t.prev = cur
	t.done++
	// Keep to the schedule; after a slow sample, start afresh from now.
	if t.next = t.next.Add(t.opts.Interval); t.next.Before(cur.at) {
		t.next = cur.at.Add(t.opts.Interval)
	}
	return iv, nil
}

// sample reads every selected program, with the processes holding each.
func (t *Top) sample() (*sample, error) {
	at := time.Now()
	all, err := objects.Programs.List(objects.Selector{})
	if err != nil {
		return nil, err
	}
	s := &sample{at: at}
	for _, p := range all {
		if t.selected(p) {
			s.progs = append(s.progs, p)
		}
	}
	return s, nil
}

// selected reports whether p is one of the programs the options select.
func (t *Top) selected(p *objects.ProgramInfo) bool {
	if len(t.opts.Select) == 0 || t.ids[p.ID] {
		return true
	}
	for _, sel := range t.opts.Select {
		if matches(sel, p) {
			return true
		}
	}
	return false
}

// matches reports whether a tag or name selector picks p.
func matches(sel objects.Selector, p *objects.ProgramInfo) bool {
	switch sel.Kind {
	case objects.SelectTag:
		return p.Tag == sel.Value
	case objects.SelectName:
		return p.Name == sel.Value
	}
	return false
}

// anyMatch reports whether sel picks a program of the last sample.
func (t *Top) anyMatch(sel objects.Selector) bool {
	if sel.Kind == objects.SelectPinned {
		return true // NewTop opened it
	}
	for _, p := range t.prev.progs {
		if (sel.Kind == objects.SelectID && p.ID == sel.ID) || matches(sel, p) {
			return true
		}
	}
	return false
}

// rates computes the interval from prev to cur, as bpftop does, with the
// CPU share over every online CPU: for each program in cur,
//
//	events/s = Δrun_cnt / interval
//	avg      = Δrun_time_ns / Δrun_cnt
//	total    = run_time_ns / run_cnt
//	CPU %    = Δrun_time_ns / (interval × cpus) × 100
//
// A program not in prev was loaded during the interval: its counters
// count from zero.
func rates(prev, cur *sample, cpus int) *Interval {
	iv := &Interval{Time: cur.at, Duration: cur.at.Sub(prev.at), CPUs: cpus, Programs: make([]ProgramRate, 0, len(cur.progs))}
	before := make(map[uint32]*objects.ProgramInfo, len(prev.progs))
	for _, p := range prev.progs {
		before[p.ID] = p
	}
	for _, p := range cur.progs {
		cnt, rt := counters(p)
		var cnt0, rt0 uint64
		if old, ok := before[p.ID]; ok {
			cnt0, rt0 = counters(old)
		}
		if cnt < cnt0 || rt < rt0 {
			cnt0, rt0 = 0, 0 // not the same program: an id used again
		}
		r := ProgramRate{
			ID: p.ID, Type: p.Type, Name: p.Name, Tag: p.Tag,
			RunCnt: cnt, RunTimeNs: rt,
			PIDs: p.PIDs,
		}
		if r.PIDs == nil {
			r.PIDs = []objects.Owner{}
		}
		if d := cnt - cnt0; d > 0 {
			r.AvgRunTimeNs = (rt - rt0) / d
		}
		if cnt > 0 {
			r.TotalAvgRunTimeNs = rt / cnt
		}
		if secs := iv.Duration.Seconds(); secs > 0 {
			r.EventsPerSecond = float64(cnt-cnt0) / secs
			r.CPUPercent = float64(rt-rt0) / (float64(iv.Duration.Nanoseconds()) * float64(max(cpus, 1))) * 100
		}
		iv.Programs = append(iv.Programs, r)
	}
	return iv
}

// counters returns a program's run count and run time, 0 when the kernel
// gave none.
func counters(p *objects.ProgramInfo) (cnt, rt uint64) {
	if p.RunCnt != nil {
		cnt = *p.RunCnt
	}
	if p.RunTimeNs != nil {
		rt = *p.RunTimeNs
	}
	return cnt, rt
}
