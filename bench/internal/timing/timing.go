// Package timing is what the `make bench` commands share: running a
// command line with its output discarded and taking the median of several
// runs, bpfkit's and bpftool's interleaved so that both see the same
// machine.
package timing

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"
)

// The binaries every benchmark compares, as flags.
var (
	Bpfkit  = flag.String("bpfkit", "bin/bpfkit", "bpfkit binary")
	Bpftool = flag.String("bpftool", "bpftool", "bpftool binary")
)

// Main parses the flags and runs run, exiting non-zero with its error.
func Main(run func() error) {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Run times one run of the command line, output discarded.
func Run(name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s %v: %w", name, args, err)
	}
	return time.Since(start), nil
}

// Medians runs each command line reps times, interleaved, and returns the
// median time of each.
func Medians(reps int, cmds ...[]string) ([]time.Duration, error) {
	times := make([][]time.Duration, len(cmds))
	for range reps {
		for i, c := range cmds {
			d, err := Run(c[0], c[1:]...)
			if err != nil {
				return nil, err
			}
			times[i] = append(times[i], d)
		}
	}
	medians := make([]time.Duration, len(cmds))
	for i, t := range times {
		medians[i] = Median(t)
	}
	return medians, nil
}

// Median is the median of times (which it sorts).
func Median(times []time.Duration) time.Duration {
	slices.Sort(times)
	return times[len(times)/2]
}

// Ms is d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
