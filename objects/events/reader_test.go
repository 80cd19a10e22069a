package events

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

func loadMapdata(t *testing.T) *ebpf.Collection {
	t.Helper()
	coll, err := ebpf.LoadCollection(testutil.Object(t, "mapdata"))
	if err != nil {
		t.Fatalf("load mapdata.bpf.o: %v", err)
	}
	t.Cleanup(coll.Close)
	return coll
}

// emitOn runs the emit program n times on one CPU.
func emitOn(t *testing.T, p *ebpf.Program, cpu, n int) {
	t.Helper()
	if err := emitRun(p, cpu, n); err != nil {
		t.Fatal(err)
	}
}

func emitRun(p *ebpf.Program, cpu, n int) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- err
			return
		}
		for i := 0; i < n; i++ {
			if _, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	return <-errc
}

// TestPerfLost overflows a one-page perf ring and expects a loss report
// after the samples that fit.
func TestPerfLost(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := loadMapdata(t)
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
		emitRun(coll.Programs["emit"], 0, 10)
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
	coll := loadMapdata(t)
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
