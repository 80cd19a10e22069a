// Command metrics is the `make bench` scrape benchmark: it loads 2,000
// small programs (each using one map), starts `bpfkit metrics serve` on a
// free loopback port, checks that a scrape carries a series for every one
// of them, and times scrapes of /metrics (median of several), `bpfkit
// metrics show` as a whole process, and, as a reference that reads the
// same programs, `bpftool -j prog show`. The target is a scrape well under
// 100 ms. The programs are unloaded and the server stopped on exit. It
// needs root.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bpfkit/bpfkit/bench/internal/timing"
)

var (
	reps  = flag.Int("reps", 21, "scrapes and runs per command (the median is reported)")
	count = flag.Int("programs", 2000, "programs to load")
)

func main() { timing.Main(run) }

func run() error {
	progs, unload, err := timing.LoadPrograms(*count, "bench_m")
	if err != nil {
		return err
	}
	defer unload()
	ids := make([]string, 0, len(progs))
	for _, p := range progs {
		info, err := p.Info()
		if err != nil {
			return err
		}
		id, _ := info.ID()
		ids = append(ids, strconv.FormatUint(uint64(id), 10))
	}

	addr, pid, stop, err := serve()
	if err != nil {
		return err
	}
	defer stop()
	series, err := scrape(addr, ids)
	if err != nil {
		return err
	}

	var times []time.Duration
	cpu0, err := cpuTime(pid)
	if err != nil {
		return err
	}
	for range *reps {
		start := time.Now()
		if _, err := get(addr); err != nil {
			return err
		}
		times = append(times, time.Since(start))
	}
	cpu1, err := cpuTime(pid)
	if err != nil {
		return err
	}
	cpuPerScrape := (cpu1 - cpu0) / time.Duration(*reps)
	slices.Sort(times)
	scrapeMedian := times[len(times)/2]
	t, err := timing.Medians(*reps, []string{*timing.Bpfkit, "metrics", "show"}, []string{*timing.Bpftool, "-j", "prog", "show"})
	if err != nil {
		return err
	}
	verdict := "well under 100 ms: yes"
	if scrapeMedian >= 50*time.Millisecond {
		verdict = "well under 100 ms: NO"
	}
	fmt.Printf("metrics with %d programs loaded (%d series in a scrape, each program there), median of %d:\n", *count, series, *reps)
	fmt.Printf("  GET /metrics of metrics serve   %8.1f ms  (fastest %.1f, slowest %.1f; %s)\n",
		timing.Ms(scrapeMedian), timing.Ms(times[0]), timing.Ms(times[len(times)-1]), verdict)
	fmt.Printf("  CPU time of metrics serve       %8.1f ms a scrape (user + system, over all %d)\n", timing.Ms(cpuPerScrape), *reps)
	fmt.Printf("  bpfkit metrics show (process)   %8.1f ms\n", timing.Ms(t[0]))
	fmt.Printf("  bpftool -j prog show (reference)%8.1f ms\n", timing.Ms(t[1]))
	return nil
}

// serve starts `bpfkit metrics serve` on a free loopback port and returns
// its address, its process id and a function that stops it.
func serve() (addr string, pid int, stop func(), err error) {
	cmd := exec.Command(*timing.Bpfkit, "metrics", "serve", "listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("metrics serve: %w", err)
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if _, serr := fmt.Sscanf(line, "serving http://%s", &addr); err != nil || serr != nil {
		stop()
		return "", 0, nil, fmt.Errorf("metrics serve said %q (%v)", line, err)
	}
	go io.Copy(io.Discard, stderr)
	return strings.TrimSuffix(addr, "/metrics"), cmd.Process.Pid, stop, nil
}

// cpuTime is the user and system time process pid has used, from
// /proc/PID/stat (in clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func get(addr string) ([]byte, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// scrape gets /metrics once, parses it, checks that every program loaded
// has its run counter, and returns the number of series.
func scrape(addr string, ids []string) (int, error) {
	body, err := get(addr)
	if err != nil {
		return 0, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return 0, fmt.Errorf("the scrape does not parse: %w", err)
	}
	seen := map[string]bool{}
	for _, m := range mfs["bpfkit_prog_run_count_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "id" {
				seen[l.GetValue()] = true
			}
		}
	}
	for _, id := range ids {
		if !seen[id] {
			return 0, fmt.Errorf("the scrape has no bpfkit_prog_run_count_total for program %s", id)
		}
	}
	n := 0
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	return n, nil
}
