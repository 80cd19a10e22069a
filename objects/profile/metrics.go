package profile

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Metric is one counter `prog profile` can read.
type Metric struct {
	Name string
	// Type and Config are the perf event's (perf_event_attr).
	Type   uint32
	Config uint64
	// Ratio, when not empty, names the metric this one is divided by in
	// the report (instructions per cycle: instructions / cycles), Per
	// what it then says and Mul what it multiplies the ratio by.
	Ratio, Per string
	Mul        float64
}

func cacheConfig(cache, result uint64) uint64 {
	return cache | unix.PERF_COUNT_HW_CACHE_OP_READ<<8 | result<<16
}

// Metrics are bpftool's metrics, in its order, then bpfkit's cpu_clock.
var Metrics = []Metric{
	{Name: "cycles", Type: unix.PERF_TYPE_HARDWARE, Config: unix.PERF_COUNT_HW_CPU_CYCLES},
	{Name: "instructions", Type: unix.PERF_TYPE_HARDWARE, Config: unix.PERF_COUNT_HW_INSTRUCTIONS,
		Ratio: "cycles", Per: "insns per cycle", Mul: 1},
	{Name: "l1d_loads", Type: unix.PERF_TYPE_HW_CACHE,
		Config: cacheConfig(unix.PERF_COUNT_HW_CACHE_L1D, unix.PERF_COUNT_HW_CACHE_RESULT_ACCESS)},
	{Name: "llc_misses", Type: unix.PERF_TYPE_HW_CACHE,
		Config: cacheConfig(unix.PERF_COUNT_HW_CACHE_LL, unix.PERF_COUNT_HW_CACHE_RESULT_MISS),
		Ratio:  "instructions", Per: "LLC misses per million insns", Mul: 1e6},
	{Name: "itlb_misses", Type: unix.PERF_TYPE_HW_CACHE,
		Config: cacheConfig(unix.PERF_COUNT_HW_CACHE_ITLB, unix.PERF_COUNT_HW_CACHE_RESULT_MISS),
		Ratio:  "instructions", Per: "itlb misses per million insns", Mul: 1e6},
	{Name: "dtlb_misses", Type: unix.PERF_TYPE_HW_CACHE,
		Config: cacheConfig(unix.PERF_COUNT_HW_CACHE_DTLB, unix.PERF_COUNT_HW_CACHE_RESULT_MISS),
		Ratio:  "instructions", Per: "dtlb misses per million insns", Mul: 1e6},
	// Beyond bpftool: the CPU clock (nanoseconds), a software counter
	// every kernel has, for machines without hardware counters (virtual
	// machines without a virtual PMU).
	{Name: "cpu_clock", Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_CPU_CLOCK},
}

// MaxMetrics is how many metrics one profile reads, as in bpftool.
const MaxMetrics = 4

// ParseMetrics returns the metrics named, in bpftool's order (the order
// of Metrics, whatever the order of names).
func ParseMetrics(names []string) ([]Metric, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("expected at least one metric: cycles, instructions, l1d_loads, llc_misses, itlb_misses, dtlb_misses or cpu_clock")
	}
	selected := map[string]bool{}
	for _, n := range names {
		known := false
		for _, m := range Metrics {
			known = known || m.Name == n
		}
		if !known {
			return nil, fmt.Errorf("unknown metric %s", n)
		}
		if selected[n] {
			return nil, fmt.Errorf("duplicated metric: %s", n)
		}
		selected[n] = true
	}
	if len(selected) > MaxMetrics {
		return nil, fmt.Errorf("too many (%d) metrics, please specify no more than %d metrics at a time", len(selected), MaxMetrics)
	}
	var ms []Metric
	for _, m := range Metrics {
		if selected[m.Name] {
			ms = append(ms, m)
		}
	}
	return ms, nil
}
