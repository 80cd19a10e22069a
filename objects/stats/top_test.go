package stats

import (
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

func info(id uint32, cnt, rt uint64) *objects.ProgramInfo {
	p := &objects.ProgramInfo{}
	p.ID, p.Name = id, "p"
	if cnt > 0 {
		p.RunCnt, p.RunTimeNs = &cnt, &rt
	}
	return p
}

// TestRates: the formulas, a program loaded during the interval, one that
// did not run, and an id that came back as another program.
func TestRates(t *testing.T) {
	t0 := time.Unix(1000, 0)
	prev := &sample{at: t0, progs: []*objects.ProgramInfo{info(1, 100, 50_000), info(2, 10, 1000), info(3, 500, 9000), info(9, 1, 1)}}
	cur := &sample{at: t0.Add(2 * time.Second), progs: []*objects.ProgramInfo{
		info(1, 300, 100_050_000), // 200 runs, 100 ms of run time
		info(2, 10, 1000),         // idle
		info(3, 40, 800),          // fewer than before: not the same program
		info(4, 20, 4000),         // new
	}}
	iv := rates(prev, cur, 2)
	if iv.Duration != 2*time.Second || iv.CPUs != 2 || !iv.Time.Equal(cur.at) || len(iv.Programs) != 4 {
		t.Fatalf("interval %+v", iv)
	}
	want := map[uint32]ProgramRate{
		1: {RunCnt: 300, RunTimeNs: 100_050_000, EventsPerSecond: 100, AvgRunTimeNs: 500_000, TotalAvgRunTimeNs: 333_500, CPUPercent: 2.5},
		2: {RunCnt: 10, RunTimeNs: 1000, TotalAvgRunTimeNs: 100},
		3: {RunCnt: 40, RunTimeNs: 800, EventsPerSecond: 20, AvgRunTimeNs: 20, TotalAvgRunTimeNs: 20, CPUPercent: 800.0 / 4e9 * 100},
		4: {RunCnt: 20, RunTimeNs: 4000, EventsPerSecond: 10, AvgRunTimeNs: 200, TotalAvgRunTimeNs: 200, CPUPercent: 4000.0 / 4e9 * 100},
	}
	for _, got := range iv.Programs {
		w := want[got.ID]
		if got.RunCnt != w.RunCnt || got.RunTimeNs != w.RunTimeNs || got.AvgRunTimeNs != w.AvgRunTimeNs ||
			got.TotalAvgRunTimeNs != w.TotalAvgRunTimeNs || math.Abs(got.EventsPerSecond-w.EventsPerSecond) > 1e-9 ||
			math.Abs(got.CPUPercent-w.CPUPercent) > 1e-12 {
			t.Errorf("program %d: %+v, want %+v", got.ID, got, w)
		}
		if got.PIDs == nil {
			t.Errorf("program %d: pids nil, want []", got.ID)
		}
	}
}

func TestSort(t *testing.T) {
	progs := []ProgramRate{{ID: 3, Name: "b", CPUPercent: 1}, {ID: 1, Name: "c", CPUPercent: 5}, {ID: 2, Name: "a", CPUPercent: 1}}
	ids := func() []uint32 {
		var ids []uint32
		for _, p := range progs {
			ids = append(ids, p.ID)
		}
		return ids
	}
	for _, c := range []struct {
		col     Column
		reverse bool
		want    [3]uint32
	}{
		{ByCPU, false, [3]uint32{1, 2, 3}}, // largest first, ties by id
		{ByCPU, true, [3]uint32{2, 3, 1}},
		{ByName, false, [3]uint32{2, 3, 1}},
		{ByID, false, [3]uint32{1, 2, 3}},
		{ByID, true, [3]uint32{3, 2, 1}},
	} {
		Sort(progs, c.col, c.reverse)
		if got := ids(); [3]uint32(got) != c.want {
			t.Errorf("sort %s reverse=%v: %v, want %v", c.col, c.reverse, got, c.want)
		}
	}
	for word, want := range map[string]Column{"cpu": ByCPU, "c": ByCPU, "t": ByType, "to": ByTotalAvg, "ev": ByEvents, "r": ByRuns} {
		if got, err := ParseColumn(word); err != nil || got != want {
			t.Errorf("ParseColumn(%q): %v, %v; want %v", word, got, err, want)
		}
	}
	if _, err := ParseColumn("nope"); err == nil {
		t.Error("ParseColumn(nope): no error")
	}
}

// only returns the rates of the program with id in iv.
func only(t *testing.T, iv *Interval, id uint32) ProgramRate {
	t.Helper()
	for _, p := range iv.Programs {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("program %d is not in the interval: %+v", id, iv.Programs)
	return ProgramRate{}
}

func progID(t *testing.T, p *ebpf.Program) uint32 {
	t.Helper()
	id, err := objects.Programs.ID(p)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestTopCounts: a program on a tracepoint the test triggers 300 times
// in the first interval and 1200 in the second: the run counts grow by
// at least that much, events/s agree with the counts and the measured
// interval, and rise with the calls.
func TestTopCounts(t *testing.T) {
	testutil.RequirePrivileged(t)
	sw, err := Enable(Auto)
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	p := testutil.TracepointProgram(t, "i11_top_counts")
	id := progID(t, p)
	top, err := NewTop(TopOptions{Interval: 300 * time.Millisecond, Count: 2, Sort: ByCPU,
		Select: []objects.Selector{{Kind: objects.SelectName, Value: "i11_top_counts"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(top.prev.progs) != 1 {
		t.Fatalf("first sample: %d programs, want 1", len(top.prev.progs))
	}
	var start ProgramRate
	start.RunCnt, start.RunTimeNs = counters(top.prev.progs[0])
	var ivs []*Interval
	for _, calls := range []int{300, 1200} {
		testutil.Trigger(calls)
		iv, err := top.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(iv.Programs) != 1 {
			t.Errorf("name i11_top_counts selects %d programs, want 1", len(iv.Programs))
		}
		ivs = append(ivs, iv)
	}
	if _, err := top.Next(context.Background()); err != io.EOF {
		t.Errorf("after count 2: %v, want io.EOF", err)
	}
	prev := start
	for i, calls := range []uint64{300, 1200} {
		r := only(t, ivs[i], id)
		runs := r.RunCnt - prev.RunCnt
		if runs < calls || r.RunTimeNs <= prev.RunTimeNs || r.AvgRunTimeNs == 0 || r.CPUPercent <= 0 {
			t.Errorf("interval %d: %d runs for %d calls, %+v", i+1, runs, calls, r)
		}
		if got := r.EventsPerSecond * ivs[i].Duration.Seconds(); math.Abs(got-float64(runs)) > 1e-6*float64(runs) {
			t.Errorf("interval %d: %.3f events/s over %v is %.3f runs, want %d", i+1, r.EventsPerSecond, ivs[i].Duration, got, runs)
		}
		prev = r
	}
	if a, b := only(t, ivs[0], id), only(t, ivs[1], id); b.EventsPerSecond <= a.EventsPerSecond {
		t.Errorf("events/s %.1f then %.1f: want a rise with four times the calls", a.EventsPerSecond, b.EventsPerSecond)
	}
}

// TestTopChurn: a program loaded between two samples appears in the next
// interval, counted from zero, and one unloaded drops out.
func TestTopChurn(t *testing.T) {
	testutil.RequirePrivileged(t)
	spec := &ebpf.ProgramSpec{Name: "i11_top_churn", Type: ebpf.SocketFilter, License: "GPL", Instructions: testutil.ReturnZero()}
	first, err := ebpf.NewProgram(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	firstID := progID(t, first)
	top, err := NewTop(TopOptions{Interval: MinInterval, Select: []objects.Selector{{Kind: objects.SelectName, Value: "i11_top_churn"}}})
	if err != nil {
		t.Fatal(err)
	}
	second := testutil.NewProgram(t, spec)
	secondID := progID(t, second)
	iv, err := top.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(iv); len(got) != 2 || !got[firstID] || !got[secondID] {
		t.Errorf("after loading %d: %v, want %d and %d", secondID, got, firstID, secondID)
	}
	first.Close()
	for i := 0; ; i++ {
		iv, err := top.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := ids(iv)
		if !got[firstID] && got[secondID] && len(got) == 1 {
			break
		}
		// The kernel frees a closed program after an RCU grace period.
		if i == 20 {
			t.Fatalf("after unloading %d: %v, want %d alone", firstID, got, secondID)
		}
	}
}

func ids(iv *Interval) map[uint32]bool {
	got := map[uint32]bool{}
	for _, p := range iv.Programs {
		got[p.ID] = true
	}
	return got
}

// TestTopErrors: bad options and selectors that match nothing fail at
// the start; a cancelled context ends Next.
func TestTopErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, opts := range []TopOptions{
		{Interval: time.Millisecond},
		{Interval: time.Second, Count: -1},
		{Interval: time.Second, Select: []objects.Selector{{Kind: objects.SelectName, Value: "i11_no_such"}}},
		{Interval: time.Second, Select: []objects.Selector{{Kind: objects.SelectID, ID: math.MaxUint32}}},
	} {
		if _, err := NewTop(opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
	top, err := NewTop(TopOptions{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := top.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
