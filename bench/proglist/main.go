// Command proglist is the `make bench` listing benchmark: it loads 2,000
// small programs (each using one map), times `bpfkit prog list` and
// `bpftool prog list`, plain and -j, in the same run (median of several
// runs, output to /dev/null), checks that both list the same program ids,
// and times `bpfkit --version`. The programs are unloaded on exit. It
// needs root.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os/exec"
	"slices"

	"github.com/bpfkit/bpfkit/bench/internal/timing"
)

var (
	reps  = flag.Int("reps", 9, "runs per command (the median is reported)")
	count = flag.Int("programs", 2000, "programs to load")
)

func main() { timing.Main(run) }

func run() error {
	_, unload, err := timing.LoadPrograms(*count, "bench_")
	if err != nil {
		return err
	}
	defer unload()

	kitIDs, err := listedIDs(*timing.Bpfkit)
	if err != nil {
		return err
	}
	toolIDs, err := listedIDs(*timing.Bpftool)
	if err != nil {
		return err
	}
	if !slices.Equal(kitIDs, toolIDs) {
		return fmt.Errorf("bpfkit lists %d programs, bpftool %d: the lists differ", len(kitIDs), len(toolIDs))
	}
	fmt.Printf("prog list with %d programs loaded (%d listed by both), median of %d runs:\n", *count, len(kitIDs), *reps)
	for _, args := range [][]string{{"prog", "list"}, {"-j", "prog", "list"}} {
		t, err := timing.Medians(*reps, append([]string{*timing.Bpfkit}, args...), append([]string{*timing.Bpftool}, args...))
		if err != nil {
			return err
		}
		kit, tool := t[0], t[1]
		fmt.Printf("  %-14s bpfkit %8.1f ms  bpftool %8.1f ms  bpftool/bpfkit %.2fx\n",
			fmt.Sprint(args), timing.Ms(kit), timing.Ms(tool), float64(tool)/float64(kit))
	}
	v, err := timing.Medians(*reps, []string{*timing.Bpfkit, "--version"})
	if err != nil {
		return err
	}
	fmt.Printf("  bpfkit --version %.1f ms\n", timing.Ms(v[0]))
	return nil
}

// listedIDs returns the program ids a tool's -j prog list prints, sorted.
func listedIDs(tool string) ([]uint32, error) {
	out, err := exec.Command(tool, "-j", "prog", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s -j prog list: %w", tool, err)
	}
	var progs []struct {
		ID uint32 `json:"id"`
	}
	if err := json.Unmarshal(out, &progs); err != nil {
		return nil, fmt.Errorf("%s -j prog list: %w", tool, err)
	}
	ids := make([]uint32, len(progs))
	for i, p := range progs {
		ids[i] = p.ID
	}
	slices.Sort(ids)
	return ids, nil
}
