package stats

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// onlinePath lists the CPUs that are online, as ranges: "0-3,6".
const onlinePath = "/sys/devices/system/cpu/online"

// OnlineCPUs returns the number of CPUs online: run time is counted on all
// of them, so an interval offers interval × OnlineCPUs of CPU time.
func OnlineCPUs() (int, error) {
	b, err := os.ReadFile(onlinePath)
	if err != nil {
		return 0, fmt.Errorf("count online CPUs: %w", err)
	}
	n, err := countCPUList(string(b))
	if err != nil {
		return 0, fmt.Errorf("count online CPUs: %s: %w", onlinePath, err)
	}
	return n, nil
}

// countCPUList counts the CPUs of a kernel CPU list ("0-3,6\n").
func countCPUList(list string) (int, error) {
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("bad CPU list %q", list)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseUint(hi, 10, 32); err != nil || last < first {
				return 0, fmt.Errorf("bad CPU list %q", list)
			}
		}
		n += int(last-first) + 1
	}
	return n, nil
}
