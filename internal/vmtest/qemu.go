package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const virtiofsd = "/usr/lib/qemu/virtiofsd" // from qemu-system-common

// machine is one guest boot: a virtiofsd sharing the host's root
// read-only and a qemu booting the kernel with the run's initramfs.
type machine struct {
	kernel    *kernel
	initramfs string
	runDir    string
	accel     string // "kvm" or "tcg"
	tcgThread string // "single" or "multi"
	mem       string
	smp       int
	cmdline   string
	nonce     string
	visible   []string // host paths the guest must see (besides /)
}

// outcome is what the host learned from one boot.
type outcome struct {
	status  int // the job's exit status; -1 when the guest reported none
	started bool
	// boot is the time from starting qemu to the job's start; job the
	// time from then to the reported status.
	boot, job time.Duration
	// counts of top-level test results seen on the console.
	passed, failed, skipped int
}

var (
	passRe = regexp.MustCompile(`^--- PASS: `)
	failRe = regexp.MustCompile(`^--- FAIL: `)
	skipRe = regexp.MustCompile(`^--- SKIP: `)
)

// run boots the machine and streams the console to out until the guest
// powers off, ctx ends, or (with KVM) the kernel shows no sign of life
// within bootWait or qemu ends before it does (a nested or paravirtual
// KVM, such as kvm-pvm, may refuse the CPU model or never start the
// kernel). qemu and virtiofsd never outlive it: they are killed on return
// and get SIGKILL should this process die first.
func (m *machine) run(ctx context.Context, out io.Writer, bootWait time.Duration) (*outcome, error) {
	res := &outcome{status: -1}
	sock := filepath.Join(m.runDir, "virtiofs.sock")
	fsd, fsdErr, err := m.startVirtiofsd(sock)
	if err != nil {
		return res, err
	}
	defer fsd.stop()

	// virtiofsd makes its socket once it has set up its sandbox.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if fsd.exited() || time.Now().After(deadline) {
			return res, fmt.Errorf("virtiofsd did not start: %s", fsdErr)
		}
	}

	// A pipe of our own: exec's StdoutPipe would be closed by Wait before
	// the last lines are read.
	stdout, pw, err := os.Pipe()
	if err != nil {
		return res, err
	}
	defer stdout.Close()
	cmd := exec.Command("qemu-system-x86_64", m.qemuArgs(sock)...)
	cmd.Stdin = nil // /dev/null: qemu leaves the terminal alone
	cmd.Stdout = pw
	cmd.Stderr = os.Stderr
	start := time.Now()
	q, err := startProc(cmd)
	pw.Close()
	if err != nil {
		return res, fmt.Errorf("qemu: %w", err)
	}
	defer q.stop()

	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		br := bufio.NewReaderSize(stdout, 64*1024)
		for {
			l, err := br.ReadString('\n')
			if l != "" {
				lines <- strings.TrimRight(l, "\r\n")
			}
			if err != nil {
				return
			}
		}
	}()

	booted := "vmtest-booted-" + m.nonce
	exitPrefix := "vmtest-exit-" + m.nonce + "="
	var jobStart time.Time
	var bootTimer <-chan time.Time
	if bootWait > 0 {
		bootTimer = time.After(bootWait)
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				<-q.done
				if bootWait > 0 && !res.started {
					return res, errBootHung
				}
				return res, nil
			}
			switch {
			case strings.HasPrefix(l, "vmtest: guest kernel "):
				res.started = true
				bootTimer = nil
			case l == booted:
				jobStart = time.Now()
				res.boot = jobStart.Sub(start)
				fmt.Fprintf(out, "vmtest: host clock: guest booted in %.1fs\n", res.boot.Seconds())
				continue
			case strings.HasPrefix(l, exitPrefix):
				if n, err := strconv.Atoi(strings.TrimPrefix(l, exitPrefix)); err == nil {
					res.status = n
					if !jobStart.IsZero() {
						res.job = time.Since(jobStart)
					}
				}
				continue
			case passRe.MatchString(l):
				res.passed++
			case failRe.MatchString(l):
				res.failed++
			case skipRe.MatchString(l):
				res.skipped++
			}
			fmt.Fprintln(out, l)
		case <-bootTimer:
			return res, errBootHung
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
}

var errBootHung = errors.New("the guest kernel did not start in time (or qemu ended first)")

func (m *machine) qemuArgs(sock string) []string {
	accel := m.accel
	cpu := "host"
	if accel == "tcg" {
		// By default one host thread runs every vCPU in turn. With
		// thread=multi, Debian 12's qemu 7.2 lets a vCPU go on running
		// code another vCPU has just patched: attaching to or detaching
		// from the sys_enter tracepoint rewrites a jump label in
		// syscall_trace_enter with int3 (text_poke_bp), and both vCPUs
		// then trapped on that int3 for good, a soft lockup of the whole
		// guest (docs/testing.md, "Why TCG runs one thread").
		accel = "tcg,thread=" + m.tcgThread
		cpu = "max"
	}
	return []string{
		"-accel", accel, "-cpu", cpu, "-smp", strconv.Itoa(m.smp), "-m", m.mem,
		"-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
		"-serial", "stdio",
		"-kernel", m.kernel.vmlinuz(), "-initrd", m.initramfs,
		"-append", m.cmdline,
		// virtiofs needs the guest's memory shared with virtiofsd.
		"-object", "memory-backend-memfd,id=mem,size=" + m.mem + ",share=on",
		"-numa", "node,memdev=mem",
		"-chardev", "socket,id=vfs,path=" + sock,
		"-device", "vhost-user-fs-pci,chardev=vfs,tag=hostroot,queue-size=1024",
	}
}

// startVirtiofsd shares the host's root filesystem with the guest,
// read-only: in a private mount namespace it bind-mounts / (not its
// submounts: no host /proc, /sys or /dev reach the guest) and the mounts
// holding the paths the guest needs, remounts them read-only, and runs
// virtiofsd on that tree.
func (m *machine) startVirtiofsd(sock string) (*proc, *syncBuffer, error) {
	// A second boot (TCG after KVM failed) finds both left by the first.
	root := filepath.Join(m.runDir, "root")
	if err := os.Mkdir(root, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, nil, err
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	script := `set -e
root=$1 sock=$2; shift 2
mount --bind / "$root"
mount -o remount,bind,ro "$root"
for mp; do
	mount --bind "$mp" "$root$mp"
	mount -o remount,bind,ro "$root$mp"
done
exec ` + virtiofsd + ` --socket-path="$sock" -o source="$root" -o cache=always -o log_level=warn
`
	args := []string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", root, sock}
	args = append(args, extraMounts(m.visible)...)
	cmd := exec.Command("unshare", args...)
	errBuf := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = errBuf, errBuf
	p, err := startProc(cmd)
	if err != nil {
		return nil, nil, fmt.Errorf("virtiofsd: %w", err)
	}
	return p, errBuf, nil
}

// extraMounts returns the mount points, other than /, that hold the
// paths, shortest first.
func extraMounts(paths []string) []string {
	mounts := mountPoints()
	set := map[string]bool{}
	for _, p := range paths {
		best := "/"
		for _, mp := range mounts {
			if (p == mp || strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
				best = mp
			}
		}
		if best != "/" {
			set[best] = true
		}
	}
	var out []string
	for mp := range set {
		out = append(out, mp)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) < len(out[j]) })
	return out
}

func mountPoints() []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			out = append(out, f[4])
		}
	}
	return out
}

// proc is a child process that dies with this one (PR_SET_PDEATHSIG) and
// is reaped once.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process (SIGTERM, then SIGKILL after 3s) and waits for it.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// syncBuffer collects a child's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// kvmUsable reports why /dev/kvm cannot run a guest, or nil.
func kvmUsable() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	const kvmGetAPIVersion, kvmCreateVM = 0xAE00, 0xAE01
	v, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), kvmGetAPIVersion, 0)
	if errno != 0 {
		return fmt.Errorf("KVM_GET_API_VERSION: %w", errno)
	}
	if v != 12 {
		return fmt.Errorf("KVM API version %d", v)
	}
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), kvmCreateVM, 0)
	if errno != 0 {
		return fmt.Errorf("KVM_CREATE_VM: %w", errno)
	}
	unix.Close(int(fd))
	return nil
}
