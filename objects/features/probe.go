package features

import (
	"runtime"
	"sync"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/objects"
)

// Options says what to probe.
type Options struct {
	// Full also probes the helpers whose use prints to the kernel log
	// (bpf_trace_printk, bpf_trace_vprintk, bpf_probe_write_user), as
	// bpftool's `full` does.
	Full bool
	// Dev names a network device whose offload support to probe
	// (`feature probe dev IF`) instead of the kernel's.
	Dev string
}

// Report is what `feature probe` found, section by section in bpftool's
// order.
type Report struct {
	// System is nil when probing a device.
	System *SystemConfig
	// Syscall reports whether the bpf() syscall exists; without it nothing
	// else is probed.
	Syscall   bool
	ProgTypes []Availability
	MapTypes  []Availability
	Helpers   []HelperSet
	Misc      []Misc
}

// Availability is whether one program or map type is available.
type Availability struct {
	Name      string
	Available bool
}

// HelperSet is the helpers one program type may call.
type HelperSet struct {
	ProgType string
	// TypeAvailable is whether the program type itself loads.
	TypeAvailable bool
	// Helpers are the available helpers' names, in helper id order.
	Helpers []string
	// Probed lists every helper probed for this type, available or not,
	// in helper id order (the `macros` output names each one).
	Probed []HelperResult
}

// HelperResult is one helper probed for one program type.
type HelperResult struct {
	Name      string
	Available bool
}

// Misc is one of bpftool's miscellaneous features.
type Misc struct {
	// Key is bpftool's JSON key ("have_bounded_loops"), Plain its text
	// ("Bounded loop support") and Define its macro ("BOUNDED_LOOPS").
	Key, Plain, Define string
	Available          bool
}

// DmesgHelpers are the helpers bpftool probes only in `full` mode: a
// program that uses them makes the kernel print to its log.
var DmesgHelpers = []string{"bpf_trace_printk", "bpf_probe_write_user", "bpf_trace_vprintk"}

var dmesgHelperIDs = map[ebpfasm.BuiltinFunc]bool{
	ebpfasm.FnTracePrintk: true, ebpfasm.FnProbeWriteUser: true, ebpfasm.FnTraceVprintk: true,
}

// Probe probes the running kernel (or opts.Dev's offload support) with the
// privileges of the calling process.
func Probe(opts Options) (*Report, error) {
	if opts.Dev != "" {
		return probeDevice(opts)
	}
	r := &Report{System: readSystemConfig(), Syscall: haveBPFSyscall()}
	if !r.Syscall {
		return r, nil
	}
	progNames := objects.TypeNames("prog_types")[1:]
	mapNames := objects.TypeNames("map_types")[1:]
	r.ProgTypes = make([]Availability, len(progNames))
	r.MapTypes = make([]Availability, len(mapNames))
	r.Misc = miscFeatures()

	helpers := helperIDs(opts.Full)
	restorePrintk := func(bool) {}
	if opts.Full {
		restorePrintk = keepPrintkEvent()
	}
	r.Helpers = make([]HelperSet, len(progNames))
	// Each program type's helpers are probed as soon as the type is
	// known to load, while the other types, maps and misc features are
	// still being probed; a type that needs the kernel's BTF (tracing,
	// lsm) takes longest and has no helper probes.
	var p probes
	for i, name := range progNames {
		pt := ebpf.ProgramType(i + 1)
		p.run(func() {
			ok := haveProgType(pt)
			r.ProgTypes[i] = Availability{name, ok}
			set := &r.Helpers[i]
			*set = HelperSet{ProgType: name, TypeAvailable: ok, Probed: make([]HelperResult, len(helpers))}
			for j, id := range helpers {
				set.Probed[j].Name = bpfasm.HelperName(int32(id))
				if ok {
					p.run(func() { set.Probed[j].Available = haveHelper(pt, id) })
				}
			}
		})
	}
	for i, name := range mapNames {
		mt := ebpf.MapType(i + 1)
		p.run(func() { r.MapTypes[i] = Availability{name, haveMapType(mt)} })
	}
	for i := range r.Misc {
		m := &r.Misc[i]
		p.run(func() { m.Available = miscProbes[m.Key]() })
	}
	p.wait()

	printk := false
	for i := range r.Helpers {
		set := &r.Helpers[i]
		for _, h := range set.Probed {
			if h.Available {
				set.Helpers = append(set.Helpers, h.Name)
				printk = printk || h.Name == "bpf_trace_printk" || h.Name == "bpf_trace_vprintk"
			}
		}
	}
	restorePrintk(printk)
	return r, nil
}

// helperIDs are the helper ids to probe: every id bpfkit knows a name for
// but bpf_unspec, without the ones that print to the kernel log unless
// full.
func helperIDs(full bool) []ebpfasm.BuiltinFunc {
	var ids []ebpfasm.BuiltinFunc
	for id := int32(1); bpfasm.HelperName(id) != ""; id++ {
		if !full && dmesgHelperIDs[ebpfasm.BuiltinFunc(id)] {
			continue
		}
		ids = append(ids, ebpfasm.BuiltinFunc(id))
	}
	return ids
}

// probes runs probes concurrently, as many at a time as twice the CPUs:
// the kernel verifies programs and creates maps in parallel, so probing
// scales with the CPUs. A probe may start more probes.
type probes struct {
	wg  sync.WaitGroup
	sem chan struct{}
}

// run starts probe f; it runs when a slot is free.
func (p *probes) run(f func()) {
	if p.sem == nil {
		p.sem = make(chan struct{}, runtime.GOMAXPROCS(0)*2)
	}
	p.wg.Go(func() {
		p.sem <- struct{}{}
		f()
		<-p.sem
	})
}

// wait waits for every probe started, and the probes they started.
func (p *probes) wait() { p.wg.Wait() }

// available turns a cilium/ebpf feature probe's answer into a yes or no:
// only nil is a yes. Any error, whether ErrNotSupported or a refusal such
// as EPERM for an unprivileged user, means the feature cannot be used.
func available(err error) bool { return err == nil }
