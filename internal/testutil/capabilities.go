package testutil

import (
	"debug/elf"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Kernel capabilities that some tests need and some kernels lack. The
// development VM's kernel (6.18, CONFIG_KPROBES unset, trampolines
// refused) lacks most of them; the Debian kernels `make vmtest` boots
// have them. Each is probed for real, once per test binary, by loading
// and attaching a tiny program where that is how it can fail.
//
// Requires skips a test on a kernel without the capability — by design,
// so BPFKIT_STRICT=1 does not turn that skip into a failure — unless
// BPFKIT_REQUIRE (a comma-separated list the qemu guest's runner sets)
// names it: then the kernel must have it and the test fails. Lacks is the
// inverse, for tests of the clear error bpfkit gives without it.
var capabilities = map[string]func() error{
	// kprobe and kretprobe perf events (CONFIG_KPROBES).
	"kprobes":    func() error { return probeKprobe(false, "do_sys_openat2") },
	"kretprobes": func() error { return probeKprobe(true, "do_sys_openat2") },
	// kprobes on the syscall entry points ksyscall sections name.
	"ksyscall": func() error { return probeKprobe(false, syscallPrefix()+"getpid") },
	// BPF_LINK_TYPE_KPROBE_MULTI (CONFIG_FPROBE, Linux 5.18).
	"kprobe_multi": func() error {
		err := features.HaveBPFLinkKprobeMulti()
		if errors.Is(err, ebpf.ErrNotSupported) {
			return fmt.Errorf("no kprobe_multi links (CONFIG_FPROBE unset, or Linux < 5.18): %w", err)
		}
		return err
	},
	// fentry and fexit programs through BPF trampolines.
	"trampolines": func() error {
		if err := probeTracing(ebpf.AttachTraceFEntry, "bpf_fentry_test1"); err != nil {
			return err
		}
		return probeTracing(ebpf.AttachTraceFExit, "bpf_fentry_test1")
	},
	// fmod_ret programs. Kernels without CONFIG_FUNCTION_ERROR_INJECTION
	// (Debian's) allow them only on security_* functions.
	"fmod_ret": func() error { return probeTracing(ebpf.AttachModifyReturn, "security_task_getpgid") },
	// The BPF LSM enabled (lsm=...,bpf) and an lsm/ program attaching.
	"lsm": probeLSM,
	// uprobe and uretprobe perf events (CONFIG_UPROBE_EVENTS).
	"uprobes": probeUprobe,
	// ISA v4 instructions (bswap, sign-extending moves, signed division;
	// Linux 6.6). features.HaveV4ISA tries only gotol, which Debian's 6.1
	// lets through.
	"isa_v4": probeV4ISA,
	// tcx links on network devices (Linux 6.6).
	"tcx": probeTCX,
	// The kernel describes perf_event links (kprobe, uprobe, tracepoint)
	// in their link info (Linux 6.6); before, only type and program.
	"perf_link_info": probePerfLinkInfo,
	// The bpf_rcu_read_lock/unlock kfuncs (Linux 6.2).
	"rcu_kfuncs": func() error { return probeKfunc("bpf_rcu_read_lock") },
}

// Capabilities lists the names Requires and Lacks know.
func Capabilities() []string {
	var names []string
	for n := range capabilities {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

var probes sync.Map // name -> *probeResult

type probeResult struct {
	once sync.Once
	err  error
}

// Have probes the running kernel for the named capability and returns why
// it lacks it, or nil. It needs root; it panics on an unknown name.
func Have(name string) error {
	probe, ok := capabilities[name]
	if !ok {
		panic(fmt.Sprintf("testutil: unknown kernel capability %q (known: %s)", name, strings.Join(Capabilities(), ", ")))
	}
	v, _ := probes.LoadOrStore(name, new(probeResult))
	r := v.(*probeResult)
	r.once.Do(func() { r.err = probe() })
	return r.err
}

// Required returns the capabilities BPFKIT_REQUIRE says the kernel must
// have, and an error for names no probe knows.
func Required() ([]string, error) {
	var out []string
	for _, n := range strings.Split(os.Getenv("BPFKIT_REQUIRE"), ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if _, ok := capabilities[n]; !ok {
			return nil, fmt.Errorf("BPFKIT_REQUIRE names unknown capability %q (known: %s)", n, strings.Join(Capabilities(), ", "))
		}
		out = append(out, n)
	}
	return out, nil
}

// Requires skips the test unless the kernel has every named capability,
// or fails it when BPFKIT_REQUIRE names a missing one. A skip here is by
// design (this kernel cannot run the test) and BPFKIT_STRICT=1 keeps it a
// skip. It also requires root, as RequirePrivileged does.
func Requires(tb testing.TB, names ...string) {
	tb.Helper()
	RequirePrivileged(tb)
	required, err := Required()
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range names {
		checkName(tb, n)
		err := Have(n)
		if err == nil {
			continue
		}
		if slices.Contains(required, n) {
			tb.Fatalf("BPFKIT_REQUIRE: kernel %s must have %s: %v", release(), n, err)
		}
		tb.Skipf("kernel %s lacks %s (%v); make vmtest runs this test on a kernel that has it", release(), n, err)
	}
}

// Has reports whether the kernel has the named capability, for a test of
// which only a part needs it; the test fails when BPFKIT_REQUIRE names a
// capability the kernel lacks, and logs what it leaves out otherwise.
func Has(tb testing.TB, name string) bool {
	tb.Helper()
	RequirePrivileged(tb)
	checkName(tb, name)
	err := Have(name)
	if err == nil {
		return true
	}
	required, rerr := Required()
	if rerr != nil {
		tb.Fatal(rerr)
	}
	if slices.Contains(required, name) {
		tb.Fatalf("BPFKIT_REQUIRE: kernel %s must have %s: %v", release(), name, err)
	}
	tb.Logf("kernel %s lacks %s (%v): that part of the test is left out", release(), name, err)
	return false
}

// Lacks skips the test when the kernel has any of the named capabilities:
// for tests of the error bpfkit gives where the kernel lacks them. The
// skip is by design; BPFKIT_STRICT=1 keeps it a skip.
func Lacks(tb testing.TB, names ...string) {
	tb.Helper()
	RequirePrivileged(tb)
	for _, n := range names {
		checkName(tb, n)
		if Have(n) == nil {
			tb.Skipf("kernel %s has %s; this test checks what happens on a kernel without it", release(), n)
		}
	}
}

func checkName(tb testing.TB, n string) {
	tb.Helper()
	if _, ok := capabilities[n]; !ok {
		tb.Fatalf("unknown kernel capability %q (known: %s)", n, strings.Join(Capabilities(), ", "))
	}
}

func release() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func returnZero() asm.Instructions {
	return asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
}

// attach loads the program (returning 0 unless it has instructions),
// attaches it, calls check if any, and detaches it again.
func attach(spec *ebpf.ProgramSpec, do func(*ebpf.Program) (link.Link, error), check ...func(link.Link) error) error {
	spec.License = "GPL"
	if spec.Instructions == nil {
		spec.Instructions = returnZero()
	}
	prog, err := ebpf.NewProgram(spec)
	if err != nil {
		return fmt.Errorf("load %s program: %w", spec.Type, err)
	}
	defer prog.Close()
	l, err := do(prog)
	if err != nil {
		return fmt.Errorf("attach %s program: %w", spec.Type, err)
	}
	defer l.Close()
	for _, c := range check {
		if err := c(l); err != nil {
			return err
		}
	}
	return l.Close()
}

func probeV4ISA() error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.SocketFilter,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0),
			asm.Mov.Imm(asm.R1, 0),
			{OpCode: asm.OpCode(0xd7), Dst: asm.R0, Constant: 16},           // r0 = bswap16 r0
			{OpCode: asm.OpCode(0xbf), Dst: asm.R0, Src: asm.R1, Offset: 8}, // r0 = (s8)r1
			{OpCode: asm.OpCode(0x37), Dst: asm.R0, Offset: 1, Constant: 1}, // r0 s/= 1
			asm.Return(),
		},
	})
	if err != nil {
		return fmt.Errorf("bswap, movsx, sdiv: %w", err)
	}
	return prog.Close()
}

func probeTCX() error {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return err
	}
	// TCX_NEXT (-1): tcx programs other tests attach to lo still run.
	next := asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()}
	return attach(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, Instructions: next}, func(p *ebpf.Program) (link.Link, error) {
		return link.AttachTCX(link.TCXOptions{Interface: lo.Index, Program: p, Attach: ebpf.AttachTCXIngress})
	})
}

func probePerfLinkInfo() error {
	return attach(&ebpf.ProgramSpec{Type: ebpf.TracePoint}, func(p *ebpf.Program) (link.Link, error) {
		return link.Tracepoint("syscalls", "sys_enter_getpid", p, nil)
	}, func(l link.Link) error {
		info, err := l.Info()
		if err != nil {
			return err
		}
		if pe := info.PerfEvent(); pe == nil || pe.Type == 0 {
			return errors.New("the kernel tells a perf_event link's type and program only (Linux < 6.6)")
		}
		return nil
	})
}

// probeKfunc looks for the kfunc in the kernel's BTF, as a loader does.
func probeKfunc(name string) error {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return err
	}
	var fn *btf.Func
	if err := spec.TypeByName(name, &fn); err != nil {
		return fmt.Errorf("no kfunc %s in the kernel's BTF: %w", name, err)
	}
	return nil
}

func probeKprobe(ret bool, sym string) error {
	if _, err := os.Stat("/sys/bus/event_source/devices/kprobe"); err != nil {
		return errors.New("no kprobe PMU (CONFIG_KPROBES unset)")
	}
	return attach(&ebpf.ProgramSpec{Type: ebpf.Kprobe}, func(p *ebpf.Program) (link.Link, error) {
		if ret {
			return link.Kretprobe(sym, p, nil)
		}
		return link.Kprobe(sym, p, nil)
	})
}

func probeTracing(at ebpf.AttachType, fn string) error {
	err := attach(&ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: at, AttachTo: fn}, func(p *ebpf.Program) (link.Link, error) {
		return link.AttachTracing(link.TracingOptions{Program: p, AttachType: at})
	})
	if errors.Is(err, unix.EPERM) {
		// cilium/ebpf's hint about MEMLOCK does not apply: root, and the
		// limit lifted.
		return fmt.Errorf("the kernel refuses %s programs on %s (EPERM as root: no BPF trampolines, or lockdown)", at, fn)
	}
	return err
}

func probeLSM() error {
	// securityfs may not be mounted (it is on the host VM); then the load
	// and attach below tell.
	if lsms, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		list := strings.TrimSpace(string(lsms))
		if !slices.Contains(strings.Split(list, ","), "bpf") {
			return fmt.Errorf("the BPF LSM is not enabled (lsm=%s; boot with lsm=...,bpf)", list)
		}
	}
	err := attach(&ebpf.ProgramSpec{Type: ebpf.LSM, AttachType: ebpf.AttachLSMMac, AttachTo: "file_open"}, func(p *ebpf.Program) (link.Link, error) {
		return link.AttachLSM(link.LSMOptions{Program: p})
	})
	if errors.Is(err, unix.EPERM) {
		return errors.New("the kernel refuses lsm programs (EPERM as root: no BPF trampolines, or the BPF LSM is off)")
	}
	return err
}

func probeUprobe() error {
	if _, err := os.Stat("/sys/bus/event_source/devices/uprobe"); err != nil {
		return errors.New("no uprobe PMU (CONFIG_UPROBE_EVENTS unset)")
	}
	// The entry point of this test binary, which has run already (test
	// binaries need not have a symbol table).
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	off, err := entryOffset(exe)
	if err != nil {
		return err
	}
	ex, err := link.OpenExecutable(exe)
	if err != nil {
		return err
	}
	return attach(&ebpf.ProgramSpec{Type: ebpf.Kprobe}, func(p *ebpf.Program) (link.Link, error) {
		return ex.Uprobe("_start", p, &link.UprobeOptions{Address: off})
	})
}

// entryOffset returns the file offset of an ELF executable's entry point.
func entryOffset(path string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && f.Entry >= p.Vaddr && f.Entry < p.Vaddr+p.Memsz {
			return f.Entry - p.Vaddr + p.Off, nil
		}
	}
	return 0, fmt.Errorf("%s: entry point %#x in no executable segment", path, f.Entry)
}

// syscallPrefix is the kernel's prefix for syscall entry points.
func syscallPrefix() string {
	switch runtime.GOARCH {
	case "arm64":
		return "__arm64_sys_"
	case "s390x":
		return "__s390x_sys_"
	case "riscv64":
		return "__riscv_sys_"
	}
	return "__x64_sys_"
}
