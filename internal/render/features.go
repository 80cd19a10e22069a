package render

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/objects/features"
)

// FeatureProbe: bpftool's plain sections, "Scanning ..." headers and one
// line per feature.
func (p *textPrinter) FeatureProbe(r *features.Report) error {
	w := bufio.NewWriter(p.w)
	if r.System != nil {
		fmt.Fprintln(w, "Scanning system configuration...")
		for _, s := range r.System.Sysctls {
			fmt.Fprintln(w, sysctlText(s))
		}
		p.configSkipped(r.System)
		for _, o := range r.System.Config {
			if o.Value != "" {
				fmt.Fprintf(w, "%s is set to %s\n", o.Name, o.Value)
			} else {
				fmt.Fprintf(w, "%s is not set\n", o.Name)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Scanning system call availability...")
	fmt.Fprintf(w, "bpf() syscall is %savailable\n\n", not(r.Syscall))
	if !r.Syscall {
		return w.Flush()
	}
	fmt.Fprintln(w, "Scanning eBPF program types...")
	for _, t := range r.ProgTypes {
		fmt.Fprintf(w, "eBPF program_type %s is %savailable\n", t.Name, not(t.Available))
	}
	fmt.Fprintln(w, "\nScanning eBPF map types...")
	for _, t := range r.MapTypes {
		fmt.Fprintf(w, "eBPF map_type %s is %savailable\n", t.Name, not(t.Available))
	}
	fmt.Fprintln(w, "\nScanning eBPF helper functions...")
	for _, h := range r.Helpers {
		fmt.Fprintf(w, "eBPF helpers supported for program type %s:", h.ProgType)
		for _, name := range h.Helpers {
			fmt.Fprintf(w, "\n\t- %s", name)
		}
		fmt.Fprintln(w)
		switch {
		case len(h.Helpers) > 0:
		case !h.TypeAvailable:
			fmt.Fprintln(w, "\tProgram type not supported")
		default:
			fmt.Fprintln(w, "\tCould not determine which helpers are available")
		}
	}
	fmt.Fprintln(w, "\nScanning miscellaneous eBPF features...")
	for _, m := range r.Misc {
		fmt.Fprintf(w, "%s is %savailable\n", m.Plain, not(m.Available))
	}
	fmt.Fprintln(w)
	return w.Flush()
}

// configSkipped says why no kernel config options are listed, as bpftool's
// p_info does (stderr, text only).
func (p *textPrinter) configSkipped(s *features.SystemConfig) {
	if s.ConfigSkipped != "" {
		p.Info("%s", s.ConfigSkipped)
	}
}

func not(ok bool) string {
	if ok {
		return ""
	}
	return "NOT "
}

// sysctlText is bpftool's sentence for one BPF sysctl's value.
func sysctlText(s features.Sysctl) string {
	type texts struct {
		unreadable, unknown string
		values              map[int64]string
	}
	var t texts
	switch s.Key {
	case "unprivileged_bpf_disabled":
		t = texts{"Unable to retrieve required privileges for bpf() syscall", "bpf() syscall restriction has unknown value %d", map[int64]string{
			0: "bpf() syscall for unprivileged users is enabled",
			1: "bpf() syscall restricted to privileged users (without recovery)",
			2: "bpf() syscall restricted to privileged users (admin can change)",
		}}
	case "bpf_jit_enable":
		t = texts{"Unable to retrieve JIT-compiler status", "JIT-compiler status has unknown value %d", map[int64]string{
			0: "JIT compiler is disabled",
			1: "JIT compiler is enabled",
			2: "JIT compiler is enabled with debugging traces in kernel logs",
		}}
	case "bpf_jit_harden":
		t = texts{"Unable to retrieve JIT hardening status", "JIT hardening status has unknown value %d", map[int64]string{
			0: "JIT compiler hardening is disabled",
			1: "JIT compiler hardening is enabled for unprivileged users",
			2: "JIT compiler hardening is enabled for all users",
		}}
	case "bpf_jit_kallsyms":
		t = texts{"Unable to retrieve JIT kallsyms export status", "JIT kallsyms exports status has unknown value %d", map[int64]string{
			0: "JIT compiler kallsyms exports are disabled",
			1: "JIT compiler kallsyms exports are enabled for root",
		}}
	case "bpf_jit_limit":
		if s.Value == -1 {
			return "Unable to retrieve global memory limit for JIT compiler for unprivileged users"
		}
		return fmt.Sprintf("Global memory limit for JIT compiler for unprivileged users is %d bytes", s.Value)
	default:
		return fmt.Sprintf("%s is %d", s.Key, s.Value)
	}
	if s.Value == -1 {
		return t.unreadable
	}
	if text, ok := t.values[s.Value]; ok {
		return text
	}
	return fmt.Sprintf(t.unknown, s.Value)
}

// FeatureMacros: bpftool's `macros` output, C #defines that a BPF program
// can include.
func (p *textPrinter) FeatureMacros(r *features.Report, prefix string) error {
	w := bufio.NewWriter(p.w)
	def := func(ok bool, name string) {
		fmt.Fprintf(w, "#define %s%sHAVE_%s\n", prefix, map[bool]string{true: "", false: "NO_"}[ok], strings.ToUpper(name))
	}
	if r.System != nil {
		fmt.Fprintln(w, "/*** Misc kernel config items ***/")
		p.configSkipped(r.System)
		for _, o := range r.System.Config {
			switch {
			case !o.Macro:
			case o.Value != "":
				fmt.Fprintf(w, "#define %s%s %s\n", prefix, o.Name, o.Value)
			default:
				fmt.Fprintf(w, "/* %s%s is not set */\n", prefix, o.Name)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "/*** System call availability ***/")
	def(r.Syscall, "bpf_syscall")
	fmt.Fprintln(w)
	if !r.Syscall {
		return w.Flush()
	}
	fmt.Fprintln(w, "/*** eBPF program types ***/")
	for _, t := range r.ProgTypes {
		def(t.Available, t.Name+"_prog_type")
	}
	fmt.Fprintln(w, "\n/*** eBPF map types ***/")
	for _, t := range r.MapTypes {
		def(t.Available, t.Name+"_map_type")
	}
	fmt.Fprintln(w, "\n/*** eBPF helper functions ***/")
	fmt.Fprintf(w, `/*
 * Use %[1]sHAVE_PROG_TYPE_HELPER(prog_type_name, helper_name)
 * to determine if <helper_name> is available for <prog_type_name>,
 * e.g.
 *	#if %[1]sHAVE_PROG_TYPE_HELPER(xdp, bpf_redirect)
 *		// do stuff with this helper
 *	#elif
 *		// use a workaround
 *	#endif
 */
#define %[1]sHAVE_PROG_TYPE_HELPER(prog_type, helper)	\
	%[1]sBPF__PROG_TYPE_ ## prog_type ## __HELPER_ ## helper
`, prefix)
	for _, h := range r.Helpers {
		for _, hr := range h.Probed {
			v := 0
			if hr.Available {
				v = 1
			}
			fmt.Fprintf(w, "#define %sBPF__PROG_TYPE_%s__HELPER_%s %d\n", prefix, h.ProgType, hr.Name, v)
		}
	}
	fmt.Fprintln(w, "\n/*** eBPF misc features ***/")
	for _, m := range r.Misc {
		def(m.Available, m.Define)
	}
	fmt.Fprintln(w)
	return w.Flush()
}

// FeatureProbe: bpftool's JSON object, a member per section.
func (p *jsonPrinter) FeatureProbe(r *features.Report) error {
	bw := bufio.NewWriter(p.w)
	j := jsonw.New(bw, p.pretty)
	j.StartObject()
	if r.System != nil {
		j.Name("system_config")
		j.StartObject()
		for _, s := range r.System.Sysctls {
			j.Name(s.Key)
			j.Int(s.Value)
		}
		for _, o := range r.System.Config {
			j.Name(o.Name)
			if o.Value == "" {
				j.Null()
			} else {
				j.String(o.Value)
			}
		}
		j.EndObject()
	}
	j.Name("syscall_config")
	j.StartObject()
	j.Name("have_bpf_syscall")
	j.Bool(r.Syscall)
	j.EndObject()
	if r.Syscall {
		for _, sec := range []struct {
			name, suffix string
			types        []features.Availability
		}{{"program_types", "_prog_type", r.ProgTypes}, {"map_types", "_map_type", r.MapTypes}} {
			j.Name(sec.name)
			j.StartObject()
			for _, t := range sec.types {
				j.Name("have_" + t.Name + sec.suffix)
				j.Bool(t.Available)
			}
			j.EndObject()
		}
		j.Name("helpers")
		j.StartObject()
		for _, h := range r.Helpers {
			j.Name(h.ProgType + "_available_helpers")
			j.StartArray()
			for _, name := range h.Helpers {
				j.String(name)
			}
			j.EndArray()
		}
		j.EndObject()
		j.Name("misc")
		j.StartObject()
		for _, m := range r.Misc {
			j.Name(m.Key)
			j.Bool(m.Available)
		}
		j.EndObject()
	}
	j.EndObject()
	bw.WriteByte('\n')
	return bw.Flush()
}

// FeatureMacros: with -j bpftool prints JSON, macros or not.
func (p *jsonPrinter) FeatureMacros(r *features.Report, _ string) error {
	return p.FeatureProbe(r)
}

// Names: one name a line.
func (p *textPrinter) Names(names []string) error {
	w := bufio.NewWriter(p.w)
	for _, n := range names {
		fmt.Fprintln(w, n)
	}
	return w.Flush()
}

// Names: an array of strings.
func (p *jsonPrinter) Names(names []string) error {
	bw := bufio.NewWriter(p.w)
	j := jsonw.New(bw, p.pretty)
	j.StartArray()
	for _, n := range names {
		j.String(n)
	}
	j.EndArray()
	bw.WriteByte('\n')
	return bw.Flush()
}
