// Command mapdump is the `make bench` map dump benchmark: it creates a
// 1,000,000-entry hash map (key 4 B, value 8 B), a 1,000,000-entry array
// and a 100,000-entry per-CPU hash, pins them in a temporary bpffs
// directory, times `bpfkit map dump` against `bpftool map dump` on each
// (median of several runs, output to /dev/null), checks that both print
// the same entries, and prints the speed ratios and bpfkit's peak RSS.
// Everything it creates is removed on exit. It needs root.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/bpfkit/bpfkit/bench/internal/timing"
	"github.com/cilium/ebpf"
)

var (
	reps    = flag.Int("reps", 5, "runs per tool and map (the median is reported)")
	scale   = flag.Int("scale", 1, "divide the map sizes by this (quick runs)")
	jsonToo = flag.Bool("json", false, "also time and compare -j dumps")
)

type benchMap struct {
	name    string
	spec    ebpf.MapSpec
	fill    func(m *ebpf.Map, n int) error
	entries int
}

func main() { timing.Main(run) }

func fillHash(m *ebpf.Map, n int) error {
	const chunk = 1 << 16
	for start := 0; start < n; start += chunk {
		cnt := min(chunk, n-start)
		keys := make([]uint32, cnt)
		vals := make([]uint64, cnt)
		for i := range keys {
			k := uint32(start + i)
			keys[i] = k * 2654435761 // spread the keys
			vals[i] = uint64(k) * 0x9e3779b97f4a7c15
		}
		if _, err := m.BatchUpdate(keys, vals, nil); err != nil {
			return err
		}
	}
	return nil
}

func fillPerCPU(m *ebpf.Map, n int) error {
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return err
	}
	const chunk = 1 << 14
	for start := 0; start < n; start += chunk {
		cnt := min(chunk, n-start)
		keys := make([]uint32, cnt)
		vals := make([]uint64, cnt*ncpu)
		for i := range keys {
			keys[i] = uint32(start + i)
			for c := 0; c < ncpu; c++ {
				vals[i*ncpu+c] = uint64(start+i)<<8 | uint64(c)
			}
		}
		if _, err := m.BatchUpdate(keys, vals, nil); err != nil {
			return err
		}
	}
	return nil
}

type result struct {
	median time.Duration
	maxRSS int64 // KiB, largest over the runs
}

// timeRun runs the command reps times with stdout to /dev/null, under
// /usr/bin/time for the peak RSS (the rusage of a child forked from this
// process would include this process's own memory: Go forks with
// CLONE_VM, and the kernel counts the old mm's high-water mark at exec).
func timeRun(args []string) (result, error) {
	var times []time.Duration
	var res result
	rssFile, err := os.CreateTemp("", "bpfkit-bench-rss")
	if err != nil {
		return res, err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	for i := 0; i < *reps; i++ {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return res, err
		}
		full := append([]string{"/usr/bin/time", "-f", "%M", "-o", rssFile.Name()}, args...)
		cmd := exec.Command(full[0], full[1:]...)
		cmd.Stdout = devnull
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		err = cmd.Run()
		elapsed := time.Since(start)
		devnull.Close()
		if err != nil {
			return res, fmt.Errorf("%v: %v: %s", args, err, stderr.String())
		}
		times = append(times, elapsed)
		data, err := os.ReadFile(rssFile.Name())
		if err != nil {
			return res, err
		}
		var kib int64
		if _, err := fmt.Sscan(string(data), &kib); err != nil {
			return res, fmt.Errorf("read peak RSS from /usr/bin/time: %q", data)
		}
		res.maxRSS = max(res.maxRSS, kib)
	}
	slices.Sort(times)
	res.median = times[len(times)/2]
	return res, nil
}

// entries runs the command once and returns a digest of its sorted entry
// lines (and their count), so that two dumps in different orders compare.
func entries(args []string, perCPU bool) (string, int, error) {
	cmd := exec.Command(args[0], args[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, err
	}
	var recs []string
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		if len(line) >= 6 && line[:6] == "Found " {
			continue
		}
		// An entry starts at a line beginning with "key:".
		if len(line) >= 4 && line[:4] == "key:" && cur.Len() > 0 {
			recs = append(recs, cur.String())
			cur.Reset()
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	if cur.Len() > 0 {
		recs = append(recs, cur.String())
	}
	if err := cmd.Wait(); err != nil {
		return "", 0, fmt.Errorf("%v: %w", args, err)
	}
	sort.Strings(recs)
	h := sha256.New()
	for _, r := range recs {
		io.WriteString(h, r)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), len(recs), nil
}

// jsonEntries digests the sorted elements of a compact -j dump.
func jsonEntries(args []string) (string, int, error) {
	out, err := exec.Command(args[0], args[1:]...).Output()
	if err != nil {
		return "", 0, fmt.Errorf("%v: %w", args, err)
	}
	body := bytes.TrimSpace(out)
	body = bytes.TrimSuffix(bytes.TrimPrefix(body, []byte("[")), []byte("]"))
	recs := bytes.Split(body, []byte(`},{"key":`))
	strs := make([]string, len(recs))
	for i, r := range recs {
		strs[i] = string(r)
	}
	sort.Strings(strs)
	h := sha256.New()
	for _, r := range strs {
		io.WriteString(h, r)
		io.WriteString(h, "\n")
	}
	return fmt.Sprintf("%x", h.Sum(nil)), len(recs), nil
}

func run() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root")
	}
	bk, err := filepath.Abs(*timing.Bpfkit)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bk); err != nil {
		return fmt.Errorf("bpfkit binary: %w (run make build)", err)
	}
	dir, err := os.MkdirTemp("/sys/fs/bpf", "bpfkit-bench-")
	if err != nil {
		return fmt.Errorf("temp dir on bpffs: %w", err)
	}
	defer os.RemoveAll(dir)

	n1m, n100k := 1000000 / *scale, 100000 / *scale
	maps := []benchMap{
		{name: "hash", spec: ebpf.MapSpec{Name: "bench_hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: uint32(n1m)}, fill: fillHash, entries: n1m},
		{name: "array", spec: ebpf.MapSpec{Name: "bench_array", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: uint32(n1m)},
			fill: func(m *ebpf.Map, n int) error {
				keys := make([]uint32, n)
				vals := make([]uint64, n)
				for i := range keys {
					keys[i], vals[i] = uint32(i), uint64(i)*3
				}
				_, err := m.BatchUpdate(keys, vals, nil)
				return err
			}, entries: n1m},
		{name: "percpu_hash", spec: ebpf.MapSpec{Name: "bench_pcpu", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: uint32(n100k)}, fill: fillPerCPU, entries: n100k},
	}
	var failed []string
	ncpu, _ := ebpf.PossibleCPU()
	fmt.Printf("map dump benchmark: %d runs each, median wall time; %d possible CPUs\n", *reps, ncpu)
	fmt.Printf("%-13s %9s %12s %12s %8s %14s %10s\n", "MAP", "ENTRIES", "BPFTOOL", "BPFKIT", "RATIO", "BPFKIT MAXRSS", "ENTRIES")
	for _, bm := range maps {
		m, err := ebpf.NewMap(&bm.spec)
		if err != nil {
			return fmt.Errorf("create %s: %w", bm.name, err)
		}
		path := filepath.Join(dir, bm.name)
		if err := m.Pin(path); err != nil {
			m.Close()
			return err
		}
		if err := bm.fill(m, bm.entries); err != nil {
			m.Close()
			return fmt.Errorf("fill %s: %w", bm.name, err)
		}
		m.Close()

		toolArgs := []string{*timing.Bpftool, "map", "dump", "pinned", path}
		kitArgs := []string{bk, "map", "dump", "pinned", path}
		plain := func(args []string) (string, int, error) { return entries(args, false) }
		if err := compare(bm.name, bm.entries, toolArgs, kitArgs, plain, &failed); err != nil {
			return err
		}
		if *jsonToo {
			jt := append([]string{toolArgs[0], "-j"}, toolArgs[1:]...)
			jk := append([]string{kitArgs[0], "-j"}, kitArgs[1:]...)
			if err := compare(bm.name+" -j", bm.entries, jt, jk, jsonEntries, &failed); err != nil {
				return err
			}
		}
		os.Remove(path)
	}
	if len(failed) > 0 {
		return fmt.Errorf("bpfkit and bpftool printed different entries for %v", failed)
	}
	return nil
}

// compare times bpftool's and bpfkit's dump of one map, checks that both
// print the same entries (adding name to failed when not), and prints a
// line of the table.
func compare(name string, n int, toolArgs, kitArgs []string, read func([]string) (string, int, error), failed *[]string) error {
	tres, err := timeRun(toolArgs)
	if err != nil {
		return err
	}
	kres, err := timeRun(kitArgs)
	if err != nil {
		return err
	}
	tsum, tn, err := read(toolArgs)
	if err != nil {
		return err
	}
	ksum, kn, err := read(kitArgs)
	if err != nil {
		return err
	}
	same := "identical"
	if tsum != ksum || tn != kn {
		same = fmt.Sprintf("DIFFER (%d vs %d)", tn, kn)
		*failed = append(*failed, name)
	}
	fmt.Printf("%-13s %9d %11.3fs %11.3fs %7.1fx %11.1f MiB %10s\n", name, n,
		tres.median.Seconds(), kres.median.Seconds(), tres.median.Seconds()/kres.median.Seconds(),
		float64(kres.maxRSS)/1024, same)
	return nil
}
