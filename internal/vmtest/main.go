// Command vmtest boots a Debian kernel in qemu and runs bpfkit's tests, or
// any command, there: `make vmtest` and `make vmrun` call it.
//
// The guest's root filesystem is the host's, shared read-only over
// virtiofs, so the working tree, bin/bpfkit, the test binaries, bpftool
// (7.1 and ../shared's 7.8 with its libraries), clang and readelf are all
// where they are on the host. /tmp, /run and the kernel filesystems are
// the guest's own. The guest prints its job's exit status on the serial
// console behind a per-run nonce; vmtest exits with it.
//
//	vmtest [flags] test [-pkg 'PATTERNS'] [-run REGEX] [-skip REGEX]
//	vmtest [flags] run 'COMMAND'
//
// Exit status: the tests' or the command's; 124 on the -timeout, 125 when
// the guest ended without reporting a status, 130 when interrupted.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"crypto/rand"
	"encoding/hex"
)

//go:embed init.sh
var initScript string

const busybox = "/bin/busybox" // static, from busybox-static

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vmtest: "+format+"\n", args...)
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: vmtest [flags] test [-pkg 'PATTERNS'] [-run REGEX] [-skip REGEX] [-test-timeout D]
       vmtest [flags] run 'COMMAND'
flags:
`)
	flag.PrintDefaults()
}

func main() {
	os.Exit(mainErr())
}

func mainErr() int {
	var (
		series    = flag.String("kernel", "6.1", "Debian kernel series to boot (newest linux-image-SERIES*-cloud-amd64-unsigned apt knows)")
		pin       = flag.String("kernel-pkg", "", "exact kernel package to boot instead of the newest of -kernel")
		cache     = flag.String("cache", ".cache/vm", "directory for kernel packages, test binaries and run files")
		timeout   = flag.Duration("timeout", 30*time.Minute, "hard limit for the whole boot; qemu is killed then")
		accel     = flag.String("accel", "auto", "kvm, tcg, or auto (KVM if /dev/kvm works and boots, else TCG)")
		mem       = flag.String("mem", "2G", "guest memory")
		smp       = flag.Int("smp", 2, "guest CPUs")
		require   = flag.String("require", "", "capabilities the guest kernel must have (BPFKIT_REQUIRE for the tests)")
		bpfkit    = flag.String("bpfkit", "bin/bpfkit", "static bpfkit binary (on the guest's PATH; the tests run it)")
		lsm       = flag.String("lsm", "landlock,lockdown,yama,integrity,apparmor,bpf", "the guest's lsm= (bpf enables the BPF LSM)")
		cmdExtra  = flag.String("append", "", "more kernel command line")
		tcgThread = flag.String("tcg-thread", "single", "TCG's threads: single (one host thread for every vCPU) or multi (docs/testing.md says why single)")
	)
	flag.Usage = usage
	flag.Parse()
	if flag.NArg() < 1 {
		usage()
		return 2
	}

	repo, err := os.Getwd()
	if err != nil {
		logf("%v", err)
		return 2
	}
	if _, err := os.Stat(filepath.Join(repo, "go.mod")); err != nil {
		logf("run me from the module's root (no go.mod in %s)", repo)
		return 2
	}
	cacheDir, _ := filepath.Abs(*cache)
	bin, _ := filepath.Abs(*bpfkit)

	var job string
	env := guestEnv(repo, bin, *require)
	switch mode := flag.Arg(0); mode {
	case "test":
		fs := flag.NewFlagSet("test", flag.ExitOnError)
		pkgs := fs.String("pkg", "./...", "packages whose tests run in the guest (space-separated patterns)")
		run := fs.String("run", "", "run only tests matching `REGEX` (go test -run)")
		skip := fs.String("skip", "", "skip tests matching `REGEX` (go test -skip)")
		testTimeout := fs.Duration("test-timeout", 25*time.Minute, "each test binary's -test.timeout")
		fs.Parse(flag.Args()[1:])
		if _, err := os.Stat(bin); err != nil {
			logf("%s: %v (make build)", bin, err)
			return 2
		}
		tests, err := buildTests(repo, filepath.Join(cacheDir, "tests"), strings.Fields(*pkgs))
		if err != nil {
			logf("%v", err)
			return 2
		}
		if len(tests) == 0 {
			logf("no package in %q has tests", *pkgs)
			return 2
		}
		job = testJob(env, tests, *run, *skip, *testTimeout)
	case "run":
		if flag.NArg() != 2 {
			usage()
			return 2
		}
		cwd, _ := os.Getwd()
		job = runJob(env, cwd, flag.Arg(1))
	default:
		usage()
		return 2
	}

	k, err := fetchKernel(cacheDir, *series, *pin)
	if err != nil {
		logf("%v", err)
		return 2
	}

	runDir := filepath.Join(cacheDir, "run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		logf("%v", err)
		return 2
	}
	sweepRuns(runDir)
	if runDir, err = os.MkdirTemp(runDir, fmt.Sprintf("vmt-%d-", os.Getpid())); err != nil {
		logf("%v", err)
		return 2
	}
	defer os.RemoveAll(runDir)

	nonceBytes := make([]byte, 8)
	rand.Read(nonceBytes)
	nonce := hex.EncodeToString(nonceBytes)
	m := &machine{
		kernel:    k,
		initramfs: filepath.Join(runDir, "initramfs.cpio"),
		runDir:    runDir,
		tcgThread: *tcgThread,
		mem:       *mem,
		smp:       *smp,
		nonce:     nonce,
		cmdline: "console=ttyS0 panic=-1 loglevel=4 lsm=" + *lsm +
			" random.trust_cpu=on " + *cmdExtra,
		visible: []string{repo, cacheDir, filepath.Dir(bin), filepath.Join(repo, "..", "shared"), goEnv("GOROOT"), goEnv("GOMODCACHE")},
	}
	settings := "NONCE=" + nonce + "\nKERNEL_BOOT=" + shellQuote(filepath.Join(k.Root, "boot")) + "\n" +
		"KEEP=" + shellQuote(strings.Join(outermost(m.visible), " ")) + "\n"
	if err := writeInitramfs(m.initramfs, k, settings, job); err != nil {
		logf("initramfs: %v", err)
		return 2
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stopSignals()

	if *tcgThread != "single" && *tcgThread != "multi" {
		logf("-tcg-thread %s: want single or multi", *tcgThread)
		return 2
	}
	accels := []string{"tcg"}
	switch *accel {
	case "auto":
		if err := kvmUsable(); err == nil {
			accels = []string{"kvm", "tcg"}
		} else {
			logf("no KVM (%v): TCG", err)
		}
	case "kvm", "tcg":
		accels = []string{*accel}
	default:
		logf("-accel %s: want kvm, tcg or auto", *accel)
		return 2
	}

	var res *outcome
	for i, a := range accels {
		m.accel = a
		logf("booting %s (%s) with %s, %s, %d CPUs, timeout %s", k.Package, k.Release, a, *mem, *smp, *timeout)
		wait := time.Duration(0)
		if a == "kvm" && len(accels) > i+1 {
			wait = 60 * time.Second // KVM boots in seconds; a hang falls back to TCG
		}
		res, err = m.run(ctx, os.Stdout, wait)
		if errors.Is(err, errBootHung) {
			logf("%s: %v; trying %s", a, err, accels[i+1])
			continue
		}
		break
	}
	if res != nil && res.status >= 0 {
		logf("guest %s: boot %.1fs, job %.1fs, exit status %d", k.Release, res.boot.Seconds(), res.job.Seconds(), res.status)
	}
	// Last, the plain closing line of the guest's top-level tests.
	defer func() {
		if res != nil && (res.passed+res.failed+res.skipped) > 0 {
			fmt.Printf("vmtest: %d passed, %d failed, %d skipped\n", res.passed, res.failed, res.skipped)
		}
	}()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		logf("timed out after %s: qemu killed", *timeout)
		return 124
	case errors.Is(err, context.Canceled):
		logf("interrupted: qemu killed")
		return 130
	case err != nil:
		logf("%v", err)
		return 125
	case res.status < 0:
		logf("the guest ended without reporting a status (kernel panic? see the console above)")
		return 125
	}
	return res.status
}

// outermost returns the existing directories among paths that no other
// of them contains, shortest first (paths with blanks are left out: the
// guest's init splits the list on them).
func outermost(paths []string) []string {
	var dirs []string
	for _, p := range paths {
		if p == "" || strings.ContainsAny(p, " \t\n") {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			dirs = append(dirs, filepath.Clean(p))
		}
	}
	slices.SortFunc(dirs, func(a, b string) int { return len(a) - len(b) })
	var out []string
	for _, d := range dirs {
		inside := false
		for _, o := range out {
			if d == o || strings.HasPrefix(d, o+"/") {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, d)
		}
	}
	return out
}

// sweepRuns removes the run directories of runners that died without
// cleaning up (SIGKILL): vmt-PID-* whose PID is gone.
func sweepRuns(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "vmt-%d-", &pid); err != nil || pid <= 0 {
			if strings.HasPrefix(e.Name(), "vmt-") {
				os.RemoveAll(filepath.Join(dir, e.Name())) // before PIDs were in the names
			}
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

func goEnv(name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// guestEnv is the environment the job runs with in the guest.
func guestEnv(repo, bin, require string) string {
	goroot := goEnv("GOROOT")
	var b strings.Builder
	set := func(k, v string) { fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v)) }
	path := filepath.Dir(bin) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if goroot != "" {
		path += ":" + filepath.Join(goroot, "bin")
	}
	set("PATH", path)
	set("HOME", "/tmp/home")
	set("TMPDIR", "/tmp")
	set("LANG", "C.UTF-8")
	// The Go toolchain, for the few tests that ask it about modules: the
	// host's module cache, read-only, and no network.
	set("GOMODCACHE", goEnv("GOMODCACHE"))
	set("GOCACHE", "/tmp/go-build")
	set("GOTOOLCHAIN", "local")
	set("GOPROXY", "off")
	set("GOFLAGS", "-mod=mod")
	set("BPFKIT_REQUIRE", require)
	b.WriteString("mkdir -p \"$HOME\"\n")
	return b.String()
}

// testBinary is one package's test binary.
type testBinary struct {
	Pkg, Dir, Bin string
}

// buildTests builds a static test binary for every package of the
// patterns that has tests.
func buildTests(repo, dir string, patterns []string) ([]testBinary, error) {
	args := append([]string{"list", "-f", "{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}"}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", strings.Join(patterns, " "), err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var tests []testBinary
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, pdir, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		rel, err := filepath.Rel(repo, pdir)
		if err != nil {
			return nil, err
		}
		name := strings.ReplaceAll(rel, string(filepath.Separator), "_")
		if name == "." {
			name = "root"
		}
		bin := filepath.Join(dir, name+".test")
		logf("go test -c %s", pkg)
		cmd := exec.Command("go", "test", "-c", "-o", bin, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go test -c %s: %w", pkg, err)
		}
		tests = append(tests, testBinary{Pkg: pkg, Dir: pdir, Bin: bin})
	}
	return tests, nil
}

// testJob runs each test binary in its package directory, as go test
// does, with -test.v and BPFKIT_STRICT=1, and exits non-zero if any
// failed.
func testJob(env string, tests []testBinary, run, skip string, timeout time.Duration) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n" + env)
	b.WriteString("export BPFKIT_STRICT=1\n")
	b.WriteString("export BPFKIT_BIN=\"$(command -v bpfkit)\"\n")
	b.WriteString(`echo "vmtest: uname -r: $(uname -r)"
status=0
t0=$(date +%s)
pkgtest() {
	pkg=$1 dir=$2 bin=$3; shift 3
	start=$(date +%s)
	(cd "$dir" && "$bin" "$@")
	rc=$?
	res=ok; [ $rc = 0 ] || { res=FAIL; status=1; }
	echo "vmtest: $res $pkg $(( $(date +%s) - start ))s"
}
`)
	for _, t := range tests {
		args := []string{"-test.v", "-test.count=1", "-test.timeout=" + timeout.String()}
		if run != "" {
			args = append(args, "-test.run="+run)
		}
		if skip != "" {
			args = append(args, "-test.skip="+skip)
		}
		fmt.Fprintf(&b, "pkgtest %s %s %s", shellQuote(t.Pkg), shellQuote(t.Dir), shellQuote(t.Bin))
		for _, a := range args {
			b.WriteString(" " + shellQuote(a))
		}
		b.WriteString("\n")
	}
	b.WriteString(`echo "vmtest: tests took $(( $(date +%s) - t0 ))s in the guest"
exit $status
`)
	return b.String()
}

// runJob runs the command with sh -c in the host's working directory.
func runJob(env, cwd, command string) string {
	return "#!/bin/sh\n" + env +
		"cd " + shellQuote(cwd) + " || exit 125\n" +
		"sh -c " + shellQuote(command) + "\n"
}
