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

	var jobs []func()
	for i, name := range progNames {
		pt := ebpf.ProgramType(i + 1)
		jobs = append(jobs, func() { r.ProgTypes[i] = Availability{name, haveProgType(pt)} })
	}
	for i, name := range mapNames {
		mt := ebpf.MapType(i + 1)
		jobs = append(jobs, func() { r.MapTypes[i] = Availability{name, haveMapType(mt)} })
	}
	for i := range r.Misc {
		m := &r.Misc[i]
		jobs = append(jobs, func() { m.Available = miscProbes[m.Key]() })
	}
	parallel(jobs)

	helpers := helperIDs(opts.Full)
	restorePrintk := func(bool) {}
	if opts.Full {
		restorePrintk = keepPrintkEvent()
	}
	r.Helpers = make([]HelperSet, len(progNames))
	jobs = jobs[:0]
	for i, pt := range r.ProgTypes {
		set := &r.Helpers[i]
		*set = HelperSet{ProgType: pt.Name, TypeAvailable: pt.Available}
		if !pt.Available {
			continue
		}
		typ := ebpf.ProgramType(i + 1)
		set.Probed = make([]HelperResult, len(helpers))
		for j, id := range helpers {
			set.Probed[j].Name = bpfasm.HelperName(int32(id))
			jobs = append(jobs, func() { set.Probed[j].Available = haveHelper(typ, id) })
		}
	}
	parallel(jobs)
	printk := false
	for i := range r.Helpers {
		set := &r.Helpers[i]
		if set.Probed == nil {
			// The type does not load: every helper is unavailable.
			for _, id := range helpers {
				set.Probed = append(set.Probed, HelperResult{Name: bpfasm.HelperName(int32(id))})
			}
		}
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

// parallel runs the jobs on as many goroutines as there are CPUs. The
// kernel verifies programs and creates maps concurrently, so probing
// scales with the CPUs.
func parallel(jobs []func()) {
	workers := min(runtime.GOMAXPROCS(0)*2, len(jobs))
	next := make(chan func())
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for job := range next {
				job()
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
}

// available turns a cilium/ebpf feature probe's answer into a yes or no:
// only nil is a yes. Any error, whether ErrNotSupported or a refusal such
// as EPERM for an unprivileged user, means the feature cannot be used.
func available(err error) bool { return err == nil }
