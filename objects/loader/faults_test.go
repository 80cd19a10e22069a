package loader

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// faultsEventNames are the kernel names of faults_events.bpf.o's objects.
var faultsEventNames = []string{"i17_ev_emit", "i17_perf_a", "i17_perf_b", "i17_ring_a", "i17_ring_b", "i17_ev_pinned"}

// TestRunStartsWithRecordsWaiting starts and ends a run session again and
// again on an object whose raw_tp/sys_enter program feeds two perf event
// arrays and two ring buffers: every start finds records waiting (the
// program runs from attach on, before the readers), which once crashed
// bpfkit run about one start in twenty (issue 17). Under make race the
// detector checks the readers against the counters and the summary.
// Every session reads records from all four maps and leaves neither its
// objects nor its pin by name behind.
func TestRunStartsWithRecordsWaiting(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj, err := Open(testutil.Object(t, "loader/faults_events"))
	if err != nil {
		t.Fatal(err)
	}
	const pin = "/sys/fs/bpf/i17_ev_pinned"
	os.Remove(pin)
	t.Cleanup(func() { os.Remove(pin) })
	for i := 0; i < 10; i++ {
		s, err := StartRun(obj, RunOptions{KeepSelf: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(pin); err != nil {
			t.Errorf("start %d: map pinned by name: %v", i, err)
		}
		seen := map[string]bool{}
		deadline := time.After(10 * time.Second)
	read:
		for len(seen) < 4 {
			select {
			case r := <-s.Records():
				if r.Lost == 0 {
					seen[r.Map] = true
				}
			case <-deadline:
				break read
			}
		}
		sum := s.Summary()
		s.Close()
		if len(seen) != 4 {
			t.Errorf("start %d: records from %v, want all four maps", i, seen)
		}
		for _, src := range sum.Sources {
			if src.Records == 0 {
				t.Errorf("start %d: summary counts no record of %s", i, src.Map)
			}
		}
		if _, err := os.Lstat(pin); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("start %d: %s left after Close: %v", i, pin, err)
		}
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{}, faultsEventNames...)
}

// TestStoppedLoadLeavesNothing: a context done while the verifier works
// (the map pinned by name exists, no program is loaded yet) makes
// LoadAndPinContext and StartRunContext undo everything and return the
// context's cause: no pin directory, no pin by name, no object.
func TestStoppedLoadLeavesNothing(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj, err := Open(testutil.Object(t, "loader/faults_slow"))
	if err != nil {
		t.Fatal(err)
	}
	const pin = "/sys/fs/bpf/i17_slow_pin"
	dir := "/sys/fs/bpf/i17_stopped"
	os.RemoveAll(dir)
	os.Remove(pin)
	t.Cleanup(func() { os.RemoveAll(dir); os.Remove(pin) })
	stop := errors.New("stopped by the test")
	for _, what := range []string{"loadall", "run"} {
		ctx, cancel := context.WithCancelCause(context.Background())
		go func() {
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				if _, err := os.Lstat(pin); err == nil {
					break
				}
			}
			cancel(stop)
		}()
		if what == "loadall" {
			_, err = LoadAndPinContext(ctx, obj, LoadOptions{}, PinRequest{Path: dir, All: true})
		} else {
			_, err = StartRunContext(ctx, obj, RunOptions{})
		}
		if !errors.Is(err, stop) {
			t.Errorf("%s: %v, want the context's cause", what, err)
		}
		for _, p := range []string{dir, pin} {
			if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s left behind", what, p)
			}
		}
		testutil.WaitCountsAtMost(t, testutil.Counts{}, "i17_slow_a", "i17_slow_b", "i17_slow_c", "i17_slow_pin")
	}
}
