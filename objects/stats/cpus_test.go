package stats

import (
	"runtime"
	"testing"
)

func TestCountCPUList(t *testing.T) {
	for list, want := range map[string]int{"0\n": 1, "0-1\n": 2, "0-3,6": 5, "0,2,4-7\n": 6} {
		if got, err := countCPUList(list); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", list, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "3-1", "0-", "1,,2"} {
		if n, err := countCPUList(bad); err == nil {
			t.Errorf("%q: %d, want an error", bad, n)
		}
	}
	n, err := OnlineCPUs()
	if err != nil || n < 1 || n < runtime.NumCPU() {
		t.Errorf("OnlineCPUs: %d, %v (Go sees %d)", n, err, runtime.NumCPU())
	}
}
