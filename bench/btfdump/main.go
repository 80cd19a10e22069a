// Command btfdump is the `make bench` BTF benchmark: it times
// `btf dump file /sys/kernel/btf/vmlinux format c` (sorted, then
// `unsorted`) and the raw dump with bpfkit, upstream bpftool v7.8.0 and
// Debian's bpftool v7.1.0 in the same run (runs interleaved, median
// reported, output to /dev/null) and prints each bpftool's time over
// bpfkit's. It checks that bpfkit's header is bpftool 7.8's (unsorted:
// byte for byte; sorted: but for the type 7.8 skips, see docs/btf.md) and
// that it compiles with clang for the BPF target.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpfkit/bpfkit/bench/internal/timing"
)

var (
	bpftool78 = flag.String("bpftool78", "../shared/tools/bpftool-7.8/bpftool", "upstream bpftool v7.8.0 (empty: leave it out)")
	clang     = flag.String("clang", "clang-14", "clang for the compile check (empty: skip it)")
	file      = flag.String("file", "/sys/kernel/btf/vmlinux", "BTF file to dump")
	reps      = flag.Int("reps", 11, "runs per command (the median is reported)")
)

func main() { timing.Main(run) }

// tool is one binary the benchmark times.
type tool struct {
	name, path string
	unsorted   bool // knows `format c unsorted` (7.1 prints BTF order always)
}

func run() error {
	tools := []tool{{"bpfkit", *timing.Bpfkit, true}, {"bpftool 7.8", *bpftool78, true}, {"bpftool 7.1", *timing.Bpftool, false}}
	if *bpftool78 == "" {
		tools = append(tools[:1], tools[2])
	}
	fmt.Printf("btf dump file %s, median of %d interleaved runs:\n", *file, *reps)
	for _, format := range [][]string{{"c"}, {"c", "unsorted"}, {"raw"}} {
		var cmds [][]string
		var names []string
		for _, t := range tools {
			args := append([]string{t.path, "btf", "dump", "file", *file, "format"}, format...)
			if len(format) > 1 && !t.unsorted {
				args = args[:len(args)-1] // 7.1: BTF order is all it has
			}
			cmds = append(cmds, args)
			names = append(names, t.name)
		}
		times, err := timing.Medians(*reps, cmds...)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("  format %-11s bpfkit %6.1f ms", strings.Join(format, " "), timing.Ms(times[0]))
		for i := 1; i < len(times); i++ {
			line += fmt.Sprintf("  %s %6.1f ms (%.2fx)", names[i], timing.Ms(times[i]), ratio(times[i], times[0]))
		}
		fmt.Println(line)
	}
	fmt.Println("  (NAME T ms (R x): that bpftool's median time, and R = its time / bpfkit's; above 1 bpfkit is faster)")

	header, err := exec.Command(*timing.Bpfkit, "btf", "dump", "file", *file, "format", "c").Output()
	if err != nil {
		return fmt.Errorf("bpfkit btf dump: %w", err)
	}
	if *bpftool78 != "" {
		if err := sameAs78(header); err != nil {
			return err
		}
	}
	if *clang == "" {
		return nil
	}
	return compiles(header)
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// sameAs78 checks bpfkit's headers against bpftool 7.8's.
func sameAs78(sorted []byte) error {
	for _, order := range []string{"", "unsorted"} {
		args := []string{"btf", "dump", "file", *file, "format", "c"}
		if order != "" {
			args = append(args, order)
		}
		want, err := exec.Command(*bpftool78, args...).Output()
		if err != nil {
			return fmt.Errorf("bpftool 7.8 %s: %w", strings.Join(args, " "), err)
		}
		got := sorted
		if order != "" {
			if got, err = exec.Command(*timing.Bpfkit, args...).Output(); err != nil {
				return fmt.Errorf("bpfkit %s: %w", strings.Join(args, " "), err)
			}
		}
		what := strings.TrimSpace("format c " + order)
		switch added, ok := insertedBeforeKfuncs(want, got); {
		case !ok:
			return fmt.Errorf("bpfkit's %s is not bpftool 7.8's", what)
		case len(added) == 0:
			fmt.Printf("  %s: bpfkit's header is bpftool 7.8's, byte for byte (%d bytes)\n", what, len(got))
		default:
			fmt.Printf("  %s: bpfkit's header is bpftool 7.8's plus the %d lines of the type 7.8 skips\n", what, bytes.Count(added, []byte("\n")))
		}
	}
	return nil
}

// insertedBeforeKfuncs returns what got adds to want just before the
// kfunc block, and whether that is all that differs.
func insertedBeforeKfuncs(want, got []byte) ([]byte, bool) {
	k := bytes.Index(want, []byte("\n/* BPF kfuncs */\n"))
	n := len(got) - len(want)
	if k < 0 || n < 0 || !bytes.Equal(got[:k], want[:k]) || !bytes.Equal(got[k+n:], want[k:]) {
		return nil, false
	}
	return got[k : k+n], true
}

// compiles checks that the header compiles for the BPF target.
func compiles(header []byte) error {
	dir, err := os.MkdirTemp("", "bpfkit-bench-btf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
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
		return errors.New("bpfkit's header does not compile: " + err.Error() + "\n" + string(out))
	}
	fmt.Printf("  bpfkit's header (%d bytes) compiles with %s -target bpf -Werror\n", len(header), *clang)
	return nil
}
