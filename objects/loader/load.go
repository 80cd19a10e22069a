package loader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// MapReuse replaces one map of an object with an existing kernel map, as
// bpftool's "map idx N MAP" or "map name NAME MAP". Index is used when Name
// is empty.
type MapReuse struct {
	Index int
	Name  string
	Map   *ebpf.Map
}

// LoadOptions are bpftool's prog load and loadall options, less the pin
// paths (see LoadAndPin).
type LoadOptions struct {
	// Type overrides the program type of every program, with bpftool's TYPE
	// words ("xdp", "kprobe", "cgroup/skb", ...).
	Type string
	// Reuse lists existing maps to use instead of creating new ones.
	Reuse []MapReuse
	// KernelBTF is a BTF file used for CO-RE relocations instead of
	// /sys/kernel/btf/vmlinux.
	KernelBTF string
	// LogLevel, when non-zero, asks the verifier for a log on every load
	// and passes each program's log to OnVerifierLog. Failed loads always
	// come back with a log.
	LogLevel      ebpf.LogLevel
	OnVerifierLog func(program, log string)
	// PinRoot is the directory for LIBBPF_PIN_BY_NAME maps; objects.BPFFSPath
	// when empty.
	PinRoot string
}

// Loaded is an object loaded into the kernel. Close releases every program
// and map it holds; objects that were pinned stay in the kernel.
type Loaded struct {
	Object     *Object
	Collection *ebpf.Collection
	// ByNamePins are LIBBPF_PIN_BY_NAME pins this load created.
	ByNamePins []string
}

// Close closes every program and map of the object.
func (l *Loaded) Close() {
	if l != nil && l.Collection != nil {
		l.Collection.Close()
		l.Collection = nil
	}
}

// ProgramLoadError reports a program the kernel refused: its name and
// section, the verifier log, and the CO-RE relocations the kernel's BTF
// could not satisfy when that was the cause.
type ProgramLoadError struct {
	Program string
	Section string
	// Log is the verifier log, one line per element; it may be empty.
	Log []string
	// CORE describes unsatisfiable CO-RE relocations, if any.
	CORE []string
	Err  error
	// logLost says why the log of an EFAULT could not be read again.
	logLost error
}

func (e *ProgramLoadError) Error() string {
	what := "rejected by the kernel"
	if len(e.Log) > 0 {
		what = "rejected by the verifier"
	}
	msg := fmt.Sprintf("program %s (section %s) %s: %s", e.Program, e.Section, what, e.cause())
	if len(e.CORE) > 0 {
		msg = fmt.Sprintf("program %s (section %s): CO-RE relocation not satisfied by the kernel's BTF: %s",
			e.Program, e.Section, strings.Join(e.CORE, "; "))
	}
	return msg
}

func (e *ProgramLoadError) Unwrap() error { return e.Err }

// cause is the underlying error without cilium's repeated program prefix
// and without the log (which is kept in Log).
func (e *ProgramLoadError) cause() string {
	var ve *ebpf.VerifierError
	if errors.As(e.Err, &ve) && ve.Cause != nil {
		if last := lastLogLine(ve.Log); last != "" {
			return ve.Cause.Error() + ": " + last
		}
		if errors.Is(ve.Cause, unix.EPERM) && os.Geteuid() == 0 {
			return ve.Cause.Error() + permHint
		}
		return ve.Cause.Error()
	}
	msg := progErrPrefix.ReplaceAllString(e.Err.Error(), "")
	if errors.Is(e.Err, unix.EFAULT) {
		// cilium/ebpf calls every EFAULT a verifier bug; the verifier
		// also answers so when a program exceeds some of its limits.
		if last := lastLogLine(e.Log); last != "" {
			return unix.EFAULT.Error() + ": " + last
		}
		why := "the verifier's log is lost"
		if e.logLost != nil {
			why += " (" + e.logLost.Error() + ")"
		}
		return unix.EFAULT.Error() + ": the kernel gave up verifying without saying why; " + why + ": a verifier limit or a verifier bug, see dmesg"
	}
	if errors.Is(e.Err, unix.EPERM) {
		// Load raised RLIMIT_MEMLOCK first (or the kernel charges memory
		// cgroups instead, since 5.11): cilium/ebpf's guess is never right.
		msg = strings.Replace(msg, " (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", "", 1)
		if os.Geteuid() == 0 {
			msg += permHint
		}
	}
	return msg
}

// permHint explains EPERM for root, where it is not about privileges: on
// kernels without BPF trampolines (or under lockdown) fentry, fexit,
// fmod_ret, lsm and freplace programs fail this way with an empty log.
const permHint = " (running as root, so the kernel refused this kind of program: fentry/fexit/lsm/freplace need BPF trampoline support, and lockdown forbids some programs)"

// lastLogLine is the verifier's final complaint, skipping the statistics
// line.
func lastLogLine(log []string) string {
	for i := len(log) - 1; i >= 0; i-- {
		l := strings.TrimSpace(log[i])
		if l == "" || strings.HasPrefix(l, "processed ") || strings.HasPrefix(l, "verification time") ||
			strings.HasPrefix(l, "stack depth") {
			continue
		}
		return l
	}
	return ""
}

var progErrPrefix = regexp.MustCompile(`^program ([^:]+): `)

// Load is LoadContext without a context: it cannot be stopped.
func Load(obj *Object, opts LoadOptions) (*Loaded, error) {
	return LoadContext(context.Background(), obj, opts)
}

// Stopped returns ctx's cause once it is done (for bpfkit's commands, the
// signal that interrupted them), nil before. The steps of a load check it
// between kernel calls: a kernel call in progress (the verifier) runs to
// its end, then what it created is undone.
func Stopped(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}

// LoadContext loads every map and program of obj into the kernel. A type override
// applies to every program, including functions in sections of unknown
// type, which then count among obj.Programs. On any failure
// nothing stays loaded: cilium/ebpf closes what it created and Load removes
// LIBBPF_PIN_BY_NAME pins it made. When ctx is done before the kernel
// call or by its end, everything is undone and ctx's cause returned.
func LoadContext(ctx context.Context, obj *Object, opts LoadOptions) (*Loaded, error) {
	if opts.Type != "" {
		obj = obj.copy()
	}
	spec := obj.Spec
	if opts.Type != "" {
		pt, at, ok := elfobj.ProgramSection(opts.Type)
		if !ok {
			return nil, fmt.Errorf("unknown program type %q", opts.Type)
		}
		for _, ps := range spec.Programs {
			ps.Type, ps.AttachType = pt, at
		}
		obj.Programs = obj.all
	}
	if err := obj.checkTyped(); err != nil {
		return nil, err
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; on newer
	// ones this does nothing.
	if err := rlimit.RemoveMemlock(); err != nil {
		// Without CAP_BPF, the probe for memory cgroup accounting fails
		// and so does raising the limit: the capability is what lacks.
		if perr := objects.PrivilegeHint(err, "loading an object"); perr != err {
			return nil, perr
		}
		return nil, fmt.Errorf("raise RLIMIT_MEMLOCK: %w", err)
	}

	copts := ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogLevel: opts.LogLevel},
	}
	if opts.KernelBTF != "" {
		kspec, err := loadKernelBTF(opts.KernelBTF)
		if err != nil {
			return nil, fmt.Errorf("kernel_btf %s: %w", opts.KernelBTF, err)
		}
		copts.Programs.KernelTypes = kspec
	}

	if len(opts.Reuse) > 0 {
		copts.MapReplacements = map[string]*ebpf.Map{}
		for _, r := range opts.Reuse {
			name := r.Name
			if name == "" {
				if r.Index < 0 || r.Index >= len(obj.Maps) {
					return nil, fmt.Errorf("map idx %d: object has %d maps", r.Index, len(obj.Maps))
				}
				name = obj.Maps[r.Index]
			}
			if spec.Maps[name] == nil {
				return nil, fmt.Errorf("map name %s: no such map in the object (maps: %s)", name, strings.Join(obj.Maps, ", "))
			}
			copts.MapReplacements[name] = r.Map
		}
	}

	// Maps pinned by name: note which pins exist so a failed load can
	// remove only the ones it created.
	root := opts.PinRoot
	if root == "" {
		root = objects.BPFFSPath
	}
	var byName []string
	for name, ms := range spec.Maps {
		if ms.Pinning != ebpf.PinByName || copts.MapReplacements[name] != nil {
			continue
		}
		p := filepath.Join(root, name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			byName = append(byName, p)
		}
	}
	if len(spec.Maps) > 0 {
		copts.Maps.PinPath = root
		if len(byName) > 0 {
			if err := objects.CheckPinDir(root); err != nil {
				return nil, fmt.Errorf("LIBBPF_PIN_BY_NAME maps: %w", err)
			}
		}
	}

	resolveKconfigTypedefs(spec)
	flat, err := withoutVariables(spec)
	if err != nil {
		return nil, err
	}
	if err := checkBTF(flat); err != nil {
		return nil, fmt.Errorf("load %s: %w", obj.Path, err)
	}
	if err := Stopped(ctx); err != nil {
		return nil, err
	}
	coll, err := newCollection(flat, copts)
	if err != nil {
		removePins(byName)
		if errors.Is(err, elfobj.ErrDamagedBTF) {
			return nil, fmt.Errorf("load %s: %w", obj.Path, err)
		}
		return nil, describeLoadError(obj, flat, copts.Programs.KernelTypes, err, opts.LogLevel)
	}
	if opts.LogLevel != 0 && opts.OnVerifierLog != nil {
		for _, name := range obj.Programs {
			if p := coll.Programs[name]; p != nil {
				opts.OnVerifierLog(name, p.VerifierLog)
			}
		}
	}
	var created []string
	for _, p := range byName {
		if _, err := os.Lstat(p); err == nil {
			created = append(created, p)
		}
	}
	loaded := &Loaded{Object: obj, Collection: coll, ByNamePins: created}
	if err := Stopped(ctx); err != nil {
		loaded.Unload()
		return nil, err
	}
	return loaded, nil
}

// withoutVariables returns a shallow copy of spec whose global variables
// are written into their data section maps' contents and then dropped.
// cilium/ebpf memory-maps data sections for every variable it loads, and a
// mapping keeps its map alive until the garbage collector unmaps it, long
// after Close: without variables, Close really unloads.
func withoutVariables(spec *ebpf.CollectionSpec) (*ebpf.CollectionSpec, error) {
	cs := *spec
	cs.Variables = nil
	cs.Maps = make(map[string]*ebpf.MapSpec, len(spec.Maps))
	for name, ms := range spec.Maps {
		cs.Maps[name] = ms
	}
	bySection := map[string][]*ebpf.VariableSpec{}
	for _, vs := range spec.Variables {
		bySection[vs.SectionName] = append(bySection[vs.SectionName], vs)
	}
	for sec, vars := range bySection {
		ms := spec.Maps[sec]
		if ms == nil {
			continue
		}
		ms = ms.Copy()
		data := make([]byte, ms.ValueSize)
		if len(ms.Contents) == 1 {
			if b, ok := ms.Contents[0].Value.([]byte); ok {
				data = append(data[:0:0], b...)
			}
		}
		for _, v := range vars {
			end := int(v.Offset) + len(v.Value)
			if v.Value == nil {
				continue
			}
			if end > len(data) {
				return nil, fmt.Errorf("variable %s lies beyond its section %s", v.Name, sec)
			}
			copy(data[v.Offset:end], v.Value)
		}
		ms.Contents = []ebpf.MapKV{{Key: uint32(0), Value: data}}
		cs.Maps[sec] = ms
	}
	return &cs, nil
}

// resolveKconfigTypedefs retypes each extern of the object's .kconfig
// section declared through typedefs of an integer (`extern __u32
// LINUX_KERNEL_VERSION __kconfig`, as libbpf's users write it) as that
// integer. cilium/ebpf v0.22 takes only a bare
// integer for LINUX_KERNEL_VERSION and LINUX_HAS_SYSCALL_WRAPPER and
// refuses the typedef, where libbpf resolves it. It builds the .kconfig
// map from the Datasec in the object's BTF, reached only through the
// instructions' metadata, so the Var is changed where it is, in spec's
// types: the integer has the typedef's size and encoding, and loading
// again finds nothing left to change.
func resolveKconfigTypedefs(spec *ebpf.CollectionSpec) {
	var ds *ebpfbtf.Datasec
	if spec.Types == nil || spec.Types.TypeByName(".kconfig", &ds) != nil {
		return
	}
	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*ebpfbtf.Var)
		if !ok {
			continue
		}
		if _, bare := v.Type.(*ebpfbtf.Int); bare {
			continue
		}
		if in, ok := ebpfbtf.UnderlyingType(v.Type).(*ebpfbtf.Int); ok {
			v.Type = in
		}
	}
}

// Unload closes l and removes the LIBBPF_PIN_BY_NAME pins it created: the
// undo of Load.
func (l *Loaded) Unload() {
	l.Close()
	removePins(l.ByNamePins)
	l.ByNamePins = nil
}

func removePins(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// describeLoadError turns cilium/ebpf's error into a ProgramLoadError when
// a program failed, adding the failed CO-RE relocations when that is the
// cause.
func describeLoadError(obj *Object, flat *ebpf.CollectionSpec, kernel *ebpfbtf.Spec, err error, level ebpf.LogLevel) error {
	m := progErrPrefix.FindStringSubmatch(err.Error())
	if m == nil || obj.Spec.Programs[m[1]] == nil {
		return fmt.Errorf("load %s: %w", obj.Path, err)
	}
	ps := obj.Spec.Programs[m[1]]
	pe := &ProgramLoadError{Program: ps.Name, Section: ps.SectionName, Err: err}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		pe.Log = ve.Log
	}
	if errors.Is(err, unix.EFAULT) && len(pe.Log) == 0 {
		// cilium/ebpf keeps no log for EFAULT: verify the program again
		// for it.
		if fps := flat.Programs[ps.Name]; fps != nil {
			pe.Log, pe.logLost = lostLog(flat, fps, level)
		}
	}
	if strings.Contains(err.Error(), "CO-RE") {
		pe.CORE = failedRelocations(ps, obj.Spec.Types, kernel)
		if len(pe.CORE) == 0 {
			pe.CORE = []string{"see the verifier log"}
		}
	}
	return pe
}
