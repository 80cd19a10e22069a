// Command featureprobe is the `make bench` feature probe benchmark: it
// times `bpfkit feature probe` and bpftool's (runs interleaved, median
// reported, output to /dev/null), plain and `full`, and checks that both
// print the same JSON. The bpftool is upstream v7.8.0 when it is at
// -bpftool78 (Debian's v7.1.0 lists every helper for every program type
// on Linux 6.2 and later, which is not the same output).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/bpfkit/bpfkit/bench/internal/timing"
)

var (
	reps      = flag.Int("reps", 9, "runs per command (the median is reported)")
	bpftool78 = flag.String("bpftool78", "../shared/tools/bpftool-7.8/bpftool", "bpftool v7.8.0 (if absent: -bpftool)")
)

func main() { timing.Main(run) }

func run() error {
	tool := *timing.Bpftool
	if _, err := os.Stat(*bpftool78); err == nil {
		tool = *bpftool78
	}
	// bpftool's full probe switches the bpf_trace_printk event on: put it
	// back as it was.
	const event = "/sys/kernel/tracing/events/bpf_trace/bpf_trace_printk/enable"
	if was, err := os.ReadFile(event); err == nil {
		defer os.WriteFile(event, was, 0)
	}
	fmt.Printf("feature probe (%s), median of %d runs:\n", tool, *reps)
	for _, extra := range [][]string{nil, {"full"}} {
		args := append([]string{"feature", "probe"}, extra...)
		t, err := timing.Medians(*reps, append([]string{*timing.Bpfkit}, args...), append([]string{tool}, args...))
		if err != nil {
			return err
		}
		kit, bt := t[0], t[1]
		same := "same JSON"
		jargs := append([]string{"-j"}, args...)
		a, err := exec.Command(*timing.Bpfkit, jargs...).Output()
		if err != nil {
			return fmt.Errorf("bpfkit %v: %w", jargs, err)
		}
		b, err := exec.Command(tool, jargs...).Output()
		if err != nil {
			return fmt.Errorf("bpftool %v: %w", jargs, err)
		}
		if !bytes.Equal(a, b) {
			same = "JSON DIFFERS"
		}
		fmt.Printf("  %-20s bpfkit %7.1f ms  bpftool %7.1f ms  bpftool/bpfkit %.2fx  %s\n",
			fmt.Sprint(args), timing.Ms(kit), timing.Ms(bt), float64(bt)/float64(kit), same)
	}
	return nil
}
