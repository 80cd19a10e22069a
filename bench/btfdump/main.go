// Command btfdump is the `make bench` BTF benchmark: it times
// `bpfkit btf dump file /sys/kernel/btf/vmlinux format c` and the same
// bpftool command in the same run (runs interleaved, median reported,
// output to /dev/null), and the raw dump likewise, prints bpfkit's time as
// a multiple of bpftool's (the target for format c is at most 1.5x), and
// checks that bpfkit's header compiles with clang for the BPF target.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

var (
	bpfkit  = flag.String("bpfkit", "bin/bpfkit", "bpfkit binary")
	bpftool = flag.String("bpftool", "bpftool", "bpftool binary")
	clang   = flag.String("clang", "clang-14", "clang for the compile check (empty: skip it)")
	file    = flag.String("file", "/sys/kernel/btf/vmlinux", "BTF file to dump")
	reps    = flag.Int("reps", 11, "runs per command (the median is reported)")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	fmt.Printf("btf dump file %s, median of %d runs:\n", *file, *reps)
	for _, format := range []string{"c", "raw"} {
		args := []string{"btf", "dump", "file", *file, "format", format}
		kit, tool, err := medians(args)
		if err != nil {
			return err
		}
		fmt.Printf("  format %-4s bpfkit %7.1f ms  bpftool %7.1f ms  bpftool/bpfkit %.2fx\n",
			format, ms(kit), ms(tool), float64(tool)/float64(kit))
	}
	if *clang == "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "bpfkit-bench-btf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	header, err := exec.Command(*bpfkit, "btf", "dump", "file", *file, "format", "c").Output()
	if err != nil {
		return fmt.Errorf("bpfkit btf dump: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), header, 0o644); err != nil {
		return err
	}
	src := "#include \"vmlinux.h\"\nint f(struct task_struct *t) { return t->pid; }\n"
	if err := os.WriteFile(filepath.Join(dir, "prog.c"), []byte(src), 0o644); err != nil {
		return err
	}
	cc := exec.Command(*clang, "-target", "bpf", "-O2", "-Werror", "-c", "prog.c", "-o", "prog.o")
	cc.Dir = dir
	if out, err := cc.CombinedOutput(); err != nil {
		return fmt.Errorf("bpfkit's header does not compile: %v\n%s", err, out)
	}
	fmt.Printf("  bpfkit's header (%d bytes) compiles with %s -target bpf -Werror\n", len(header), *clang)
	return nil
}

// medians runs both tools reps times, alternating, and returns the median
// durations.
func medians(args []string) (kit, tool time.Duration, err error) {
	var kits, tools []time.Duration
	for range *reps {
		d, err := timeRun(*bpfkit, args)
		if err != nil {
			return 0, 0, err
		}
		kits = append(kits, d)
		if d, err = timeRun(*bpftool, args); err != nil {
			return 0, 0, err
		}
		tools = append(tools, d)
	}
	slices.Sort(kits)
	slices.Sort(tools)
	return kits[len(kits)/2], tools[len(tools)/2], nil
}

func timeRun(tool string, args []string) (time.Duration, error) {
	cmd := exec.Command(tool, args...)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s %v: %w", tool, args, err)
	}
	return time.Since(start), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
