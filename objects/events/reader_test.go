package events

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// emitOn runs mapdata.bpf.o's emit program n times on one CPU.
func emitOn(t *testing.T, p *ebpf.Program, cpu, n int) {
	t.Helper()
	if err := testutil.RunOnCPU(p, cpu, n); err != nil {
		t.Fatal(err)
	}
}

// TestPerfLost overflows a one-page perf ring and expects a loss report
// after the samples that fit.
func TestPerfLost(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := testutil.LoadCollection(t, testutil.Object(t, "mapdata"))
	r, err := Open(coll.Maps["perf_events"], Options{CPU: 0, Index: 0, PerCPUPages: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	emitOn(t, coll.Programs["emit"], 0, 500)
	// The kernel reports a loss with the next sample that fits, once the
	// reader made room: emit a few more after the first read.
	moreDone := make(chan struct{})
	more := time.AfterFunc(300*time.Millisecond, func() {
		defer close(moreDone)
		testutil.RunOnCPU(coll.Programs["emit"], 0, 10)
	})
	defer func() {
		if !more.Stop() {
			<-moreDone
		}
	}()
	timer := time.AfterFunc(5*time.Second, func() { r.Close() })
	defer timer.Stop()
	samples, lost := 0, uint64(0)
	var last uint64
	for lost == 0 {
		rec, err := r.Read()
		if err != nil {
			t.Fatalf("after %d samples: %v", samples, err)
		}
		switch rec.Kind {
		case Sample:
			samples++
			if rec.CPU != 0 || rec.Index != 0 || len(rec.Data) != 28 || rec.Time < last {
				t.Fatalf("sample %d: %+v", samples, rec)
			}
			last = rec.Time
		case Lost:
			lost = rec.Lost
		}
	}
	if samples == 0 || samples+int(lost) != 500 {
		t.Errorf("%d samples and %d lost, want 500 in all before the loss report", samples, lost)
	}
}

func TestRingbufReader(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := testutil.LoadCollection(t, testutil.Object(t, "mapdata"))
	emitOn(t, coll.Programs["emit"], 1, 3)
	r, err := Open(coll.Maps["ring"], Options{CPU: -1, Index: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 0; i < 3; i++ {
		rec, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if !rec.Ring || len(rec.Data) != 24 || binary.LittleEndian.Uint32(rec.Data) != 42 ||
			binary.LittleEndian.Uint64(rec.Data[8:]) != uint64(7+i) {
			t.Errorf("record %d: %+v", i, rec)
		}
	}
	if _, err := Open(coll.Maps["flows"], Options{CPU: -1, Index: -1}); err == nil {
		t.Error("a hash map opened as an event source")
	}
}
