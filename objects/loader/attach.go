package loader

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/events"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// ErrNoAutoAttach means a program's section names no hook bpfkit can attach
// it to by itself (socket filters, perf_event, struct_ops, freplace,
// syscall, a bare "tc" section...). bpftool's autoattach pins such a
// program instead; bpfkit run skips it with a note.
var ErrNoAutoAttach = errors.New("section names no hook to attach to")

// ErrNeedsTarget means a program needs a target from the user: an interface
// for xdp and tc, a cgroup for cgroup programs.
var ErrNeedsTarget = errors.New("attach target needed")

// ErrNoKprobes is returned when a kprobe cannot be attached because the
// kernel was built without kprobe support.
var ErrNoKprobes = errors.New("the kernel has no kprobe support (built without CONFIG_KPROBES)")

// kindError is an attach error of one of the kinds above whose message
// stands alone (errors.Is finds the kind).
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func kindErr(kind error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// ErrNoTarget is returned when the hook a section names does not exist in
// the running kernel (or the binary has no such symbol).
var ErrNoTarget = errors.New("no such attach point")

// AttachOptions give the targets a section name cannot carry.
type AttachOptions struct {
	// Iface is the network interface for xdp and tc/tcx programs.
	Iface string
	// Cgroup is the cgroup v2 directory for cgroup programs.
	Cgroup string
}

// Attachment is one program attached by its section.
type Attachment struct {
	Program string
	Section string
	// Hook says where it is attached, e.g. "tracepoint syscalls/sys_enter_openat".
	Hook string
	Link link.Link
	// LinkID is the kernel's link ID, 0 when the attachment is not a BPF
	// link (legacy attach) or it could not be read.
	LinkID uint32
}

// AttachBySection attaches prog according to its section name, the way
// libbpf's auto-attach does, and returns the attachment. Errors wrap
// ErrNoAutoAttach or ErrNeedsTarget when the section alone is not enough.
func AttachBySection(ps *ebpf.ProgramSpec, prog *ebpf.Program, opts AttachOptions) (*Attachment, error) {
	sec := strings.TrimPrefix(ps.SectionName, "?")
	kind, rest, _ := strings.Cut(sec, "/")
	a := &Attachment{Program: ps.Name, Section: ps.SectionName}
	var (
		l   link.Link
		err error
	)
	switch kind {
	case "tracepoint", "tp":
		group, name, ok := strings.Cut(rest, "/")
		if !ok || group == "" || name == "" {
			return nil, fmt.Errorf("section %s: want tracepoint/GROUP/NAME", sec)
		}
		a.Hook = "tracepoint " + rest
		l, err = link.Tracepoint(group, name, prog, nil)
	case "raw_tracepoint", "raw_tp", "raw_tracepoint.w", "raw_tp.w":
		if rest == "" {
			return nil, kindErr(ErrNoAutoAttach, "section %s: want %s/NAME", sec, kind)
		}
		a.Hook = "raw_tracepoint " + rest
		l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: rest, Program: prog})
	case "tp_btf", "fentry", "fexit", "fmod_ret", "fentry.s", "fexit.s", "fmod_ret.s":
		a.Hook = strings.TrimSuffix(kind, ".s") + " " + ps.AttachTo
		l, err = link.AttachTracing(link.TracingOptions{Program: prog})
	case "lsm", "lsm.s":
		a.Hook = "lsm " + ps.AttachTo
		l, err = link.AttachLSM(link.LSMOptions{Program: prog})
	case "kprobe", "kretprobe":
		sym, off, perr := symbolOffset(rest)
		if perr != nil {
			return nil, fmt.Errorf("section %s: %w", sec, perr)
		}
		a.Hook = kind + " " + rest
		opts := &link.KprobeOptions{Offset: off}
		if kind == "kprobe" {
			l, err = link.Kprobe(sym, prog, opts)
		} else {
			l, err = link.Kretprobe(sym, prog, opts)
		}
	case "ksyscall", "kretsyscall":
		if rest == "" {
			return nil, fmt.Errorf("section %s: want %s/SYSCALL", sec, kind)
		}
		sym := syscallPrefix() + rest
		a.Hook = kind + " " + rest + " (" + sym + ")"
		if kind == "ksyscall" {
			l, err = link.Kprobe(sym, prog, nil)
		} else {
			l, err = link.Kretprobe(sym, prog, nil)
		}
	case "kprobe.multi", "kretprobe.multi":
		syms, merr := matchKernelFunctions(rest)
		if merr != nil {
			return nil, fmt.Errorf("section %s: %w", sec, merr)
		}
		a.Hook = fmt.Sprintf("%s %s (%d functions)", kind, rest, len(syms))
		if kind == "kprobe.multi" {
			l, err = link.KprobeMulti(prog, link.KprobeMultiOptions{Symbols: syms})
		} else {
			l, err = link.KretprobeMulti(prog, link.KprobeMultiOptions{Symbols: syms})
		}
	case "uprobe", "uretprobe", "uprobe.s", "uretprobe.s":
		bin, symoff, ok := cutLast(rest, ":")
		if !ok || bin == "" || symoff == "" {
			return nil, kindErr(ErrNoAutoAttach, "section %s: want %s/BINARY:SYMBOL[+OFFSET]", sec, kind)
		}
		sym, off, perr := symbolOffset(symoff)
		if perr != nil {
			return nil, fmt.Errorf("section %s: %w", sec, perr)
		}
		ex, oerr := link.OpenExecutable(resolveBinary(bin))
		if oerr != nil {
			return nil, fmt.Errorf("section %s: %w", sec, oerr)
		}
		a.Hook = strings.TrimSuffix(kind, ".s") + " " + rest
		uo := &link.UprobeOptions{Offset: off}
		if strings.HasPrefix(kind, "uprobe") {
			l, err = ex.Uprobe(sym, prog, uo)
		} else {
			l, err = ex.Uretprobe(sym, prog, uo)
		}
	case "iter", "iter.s":
		a.Hook = "iter " + rest
		var it *link.Iter
		it, err = link.AttachIter(link.IterOptions{Program: prog})
		if err == nil {
			l = it
		}
	case "xdp", "xdp.frags":
		if rest != "" { // xdp/devmap, xdp/cpumap run from maps
			return nil, kindErr(ErrNoAutoAttach, "section %s runs from a %s map", sec, rest)
		}
		ifc, ierr := iface(opts.Iface, sec)
		if ierr != nil {
			return nil, ierr
		}
		a.Hook = "xdp dev " + ifc.Name
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifc.Index})
	case "tc", "tcx", "classifier":
		var at ebpf.AttachType
		switch rest {
		case "ingress":
			at = ebpf.AttachTCXIngress
		case "egress":
			at = ebpf.AttachTCXEgress
		default:
			return nil, kindErr(ErrNoAutoAttach, "section %s does not say ingress or egress (use tc/ingress or tc/egress)", sec)
		}
		ifc, ierr := iface(opts.Iface, sec)
		if ierr != nil {
			return nil, ierr
		}
		a.Hook = "tcx " + rest + " dev " + ifc.Name
		l, err = link.AttachTCX(link.TCXOptions{Interface: ifc.Index, Program: prog, Attach: at})
	case "cgroup", "cgroup_skb", "sockops":
		// Only cgroup/skb names no hook. (AttachNone is also the value of
		// cgroup_inet_ingress, so the attach type cannot tell.)
		if kind == "cgroup" && rest == "skb" {
			return nil, kindErr(ErrNoAutoAttach, "section %s names no cgroup hook", sec)
		}
		if opts.Cgroup == "" {
			return nil, kindErr(ErrNeedsTarget, "section %s needs a cgroup v2 directory (--cgroup)", sec)
		}
		a.Hook = fmt.Sprintf("cgroup %s %s", objects.AttachTypeName(ps.AttachType), opts.Cgroup)
		l, err = link.AttachCgroup(link.CgroupOptions{Path: opts.Cgroup, Attach: ps.AttachType, Program: prog})
	case "socket":
		return nil, kindErr(ErrNoAutoAttach, "socket filters attach to a socket the program's user opens")
	default:
		return nil, kindErr(ErrNoAutoAttach, "section %s (type %s) names no hook bpfkit can attach to by itself", sec, objects.ProgTypeName(ps.Type))
	}
	if err != nil {
		switch kind {
		case "kprobe", "kretprobe", "ksyscall", "kretsyscall":
			// These go through the kprobe PMU (or tracefs' kprobe_events):
			// without CONFIG_KPROBES cilium/ebpf's error names a file.
			if _, serr := os.Stat("/sys/bus/event_source/devices/kprobe"); serr != nil {
				return nil, fmt.Errorf("attach %s to %s: %w", ps.Name, a.Hook, ErrNoKprobes)
			}
		}
		if (kind == "xdp" || kind == "xdp.frags") && errors.Is(err, unix.EBUSY) {
			return nil, fmt.Errorf("attach %s to %s: the interface already has an XDP program (one per interface): %w", ps.Name, a.Hook, err)
		}
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, link.ErrNoSymbol) {
			return nil, fmt.Errorf("attach %s: %w: %s (%v)", ps.Name, ErrNoTarget, a.Hook, err)
		}
		return nil, fmt.Errorf("attach %s to %s: %w", ps.Name, a.Hook, err)
	}
	a.Link = l
	if info, ierr := l.Info(); ierr == nil {
		a.LinkID = uint32(info.ID)
	}
	return a, nil
}

// iface resolves the interface a network program needs.
func iface(name, sec string) (*net.Interface, error) {
	if name == "" {
		return nil, kindErr(ErrNeedsTarget, "section %s needs a network interface (--iface)", sec)
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", name, err)
	}
	return ifc, nil
}

// resolveBinary finds a uprobe target given without a directory, as libbpf
// does: a shared library in the usual library directories, or a program on
// PATH. Other names are returned as they are.
func resolveBinary(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	if strings.Contains(name, ".so") {
		for _, dir := range []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
			"/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"} {
			if p := filepath.Join(dir, name); fileExists(p) {
				return p
			}
		}
		return name
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// symbolOffset splits "func+0x10" into the symbol and its offset.
func symbolOffset(s string) (string, uint64, error) {
	sym, off, ok := strings.Cut(s, "+")
	if sym == "" {
		return "", 0, errors.New("no function named")
	}
	if !ok {
		return sym, 0, nil
	}
	n, err := strconv.ParseUint(off, 0, 64)
	if err != nil {
		return "", 0, fmt.Errorf("offset %q: %w", off, err)
	}
	return sym, n, nil
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// syscallPrefix is the kernel's prefix for syscall entry points on this
// architecture, as libbpf's ksyscall sections use.
func syscallPrefix() string {
	switch runtime.GOARCH {
	case "amd64":
		return "__x64_sys_"
	case "arm64":
		return "__arm64_sys_"
	case "s390x":
		return "__s390x_sys_"
	case "riscv64":
		return "__riscv_sys_"
	}
	return "sys_"
}

// matchKernelFunctions expands a kprobe.multi pattern (with * and ?) over
// the functions ftrace can trace.
func matchKernelFunctions(pattern string) ([]string, error) {
	if pattern == "" {
		return nil, errors.New("no function pattern")
	}
	if !strings.ContainsAny(pattern, "*?") {
		return []string{pattern}, nil
	}
	dir, err := events.TraceDir(true)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(dir + "/available_filter_functions")
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		fn, _, _ := strings.Cut(line, " ")
		if fn != "" && !seen[fn] && globMatch(pattern, fn) {
			seen[fn] = true
			out = append(out, fn)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no traceable kernel function matches %q", pattern)
	}
	return out, nil
}

// globMatch matches s against a pattern of literal characters, * and ?.
func globMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if globMatch(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}
