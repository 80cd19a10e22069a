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

	"github.com/bpfkit/bpfkit/bench/internal/timing"
)

var (
	clang = flag.String("clang", "clang-14", "clang for the compile check (empty: skip it)")
	file  = flag.String("file", "/sys/kernel/btf/vmlinux", "BTF file to dump")
	reps  = flag.Int("reps", 11, "runs per command (the median is reported)")
)

func main() { timing.Main(run) }

func run() error {
	fmt.Printf("btf dump file %s, median of %d runs:\n", *file, *reps)
	for _, format := range []string{"c", "raw"} {
		args := []string{"btf", "dump", "file", *file, "format", format}
		t, err := timing.Medians(*reps, append([]string{*timing.Bpfkit}, args...), append([]string{*timing.Bpftool}, args...))
		if err != nil {
			return err
		}
		kit, tool := t[0], t[1]
		fmt.Printf("  format %-4s bpfkit %7.1f ms  bpftool %7.1f ms  bpftool/bpfkit %.2fx\n",
			format, timing.Ms(kit), timing.Ms(tool), float64(tool)/float64(kit))
	}
	if *clang == "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "bpfkit-bench-btf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	header, err := exec.Command(*timing.Bpfkit, "btf", "dump", "file", *file, "format", "c").Output()
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
