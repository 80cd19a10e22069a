package features

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Sysctl is one BPF sysctl from /proc/sys. Value is -1 when it could not
// be read, as bpftool reports it.
type Sysctl struct {
	// Key is bpftool's JSON key, e.g. "bpf_jit_enable".
	Key   string
	Value int64
}

// ConfigOption is one kernel config option bpftool reports.
type ConfigOption struct {
	Name string
	// Value is the option's value ("y", "m", "250"), "" when not set.
	Value string
	// Macro options are the ones `feature probe macros` prints.
	Macro bool
}

// SystemConfig is bpftool's system_config section.
type SystemConfig struct {
	// Sysctls is empty when /proc is not procfs.
	Sysctls []Sysctl
	// Config is nil when no kernel config could be read; ConfigSkipped
	// says why.
	Config        []ConfigOption
	ConfigSkipped string
}

// sysctls are the files bpftool reads, in its order, with its JSON keys.
var sysctls = []struct{ key, path string }{
	{"unprivileged_bpf_disabled", "/proc/sys/kernel/unprivileged_bpf_disabled"},
	{"bpf_jit_enable", "/proc/sys/net/core/bpf_jit_enable"},
	{"bpf_jit_harden", "/proc/sys/net/core/bpf_jit_harden"},
	{"bpf_jit_kallsyms", "/proc/sys/net/core/bpf_jit_kallsyms"},
	{"bpf_jit_limit", "/proc/sys/net/core/bpf_jit_limit"},
}

// configOptions are the kernel config options bpftool v7.8 reports, in its
// order; CONFIG_HZ is the one printed as a macro.
var configOptions = []string{
	"CONFIG_BPF", "CONFIG_BPF_SYSCALL", "CONFIG_HAVE_EBPF_JIT", "CONFIG_BPF_JIT",
	"CONFIG_BPF_JIT_ALWAYS_ON", "CONFIG_DEBUG_INFO_BTF", "CONFIG_DEBUG_INFO_BTF_MODULES",
	"CONFIG_CGROUPS", "CONFIG_CGROUP_BPF", "CONFIG_CGROUP_NET_CLASSID", "CONFIG_SOCK_CGROUP_DATA",
	"CONFIG_BPF_EVENTS", "CONFIG_KPROBE_EVENTS", "CONFIG_UPROBE_EVENTS", "CONFIG_TRACING",
	"CONFIG_FTRACE_SYSCALLS", "CONFIG_FUNCTION_ERROR_INJECTION", "CONFIG_BPF_KPROBE_OVERRIDE",
	"CONFIG_NET", "CONFIG_XDP_SOCKETS", "CONFIG_LWTUNNEL_BPF", "CONFIG_NET_ACT_BPF",
	"CONFIG_NET_CLS_BPF", "CONFIG_NET_CLS_ACT", "CONFIG_NET_SCH_INGRESS", "CONFIG_XFRM",
	"CONFIG_IP_ROUTE_CLASSID", "CONFIG_IPV6_SEG6_BPF", "CONFIG_BPF_LIRC_MODE2",
	"CONFIG_BPF_STREAM_PARSER", "CONFIG_NETFILTER_XT_MATCH_BPF", "CONFIG_TEST_BPF",
	"CONFIG_HZ",
}

const macroOption = "CONFIG_HZ"

// readSystemConfig reads the sysctls (when /proc is procfs) and the kernel
// config.
func readSystemConfig() *SystemConfig {
	sc := &SystemConfig{}
	var st unix.Statfs_t
	if unix.Statfs("/proc", &st) == nil && st.Type == unix.PROC_SUPER_MAGIC {
		for _, s := range sysctls {
			sc.Sysctls = append(sc.Sysctls, Sysctl{Key: s.key, Value: readSysctl(s.path)})
		}
	}
	var err error
	if sc.Config, err = readKernelConfig(); err != nil {
		sc.ConfigSkipped = err.Error()
	}
	return sc
}

// readSysctl reads a decimal number alone on the first line of path, or
// -1.
func readSysctl(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	line, _, ok := strings.Cut(string(data), "\n")
	if !ok {
		return -1
	}
	v, err := strconv.ParseInt(line, 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// configPaths are where the kernel config is looked for, as bpftool does:
// /boot/config-$(uname -r) first, then /proc/config.gz (CONFIG_IKCONFIG).
func configPaths() []string {
	var paths []string
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		paths = append(paths, "/boot/config-"+unix.ByteSliceToString(uts.Release[:]))
	}
	return append(paths, "/proc/config.gz")
}

// readKernelConfig returns bpftool's options with their values from the
// first kernel config file that opens.
func readKernelConfig() ([]ConfigOption, error) {
	var f *os.File
	var err error
	for _, p := range configPaths() {
		if f, err = os.Open(p); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("skipping kernel config, can't open file: %w", err)
	}
	defer f.Close()
	values, err := parseKernelConfig(f)
	if err != nil {
		return nil, err
	}
	opts := make([]ConfigOption, len(configOptions))
	for i, name := range configOptions {
		opts[i] = ConfigOption{Name: name, Value: values[name], Macro: name == macroOption}
	}
	return opts, nil
}

// parseKernelConfig reads a kernel .config, gzip-compressed or not, and
// returns the value of every CONFIG_ option set in it.
func parseKernelConfig(r io.Reader) (map[string]string, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("skipping kernel config, can't read from file: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var lines int
	values := map[string]string{}
	for sc.Scan() {
		line := sc.Text()
		lines++
		// The second line says the file is a generated config.
		if lines == 2 && line != "# Automatically generated file; DO NOT EDIT." {
			return nil, errors.New("skipping kernel config, can't find correct file")
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "CONFIG_") || value == "" {
			continue
		}
		if _, seen := values[name]; !seen {
			values[name] = value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("skipping kernel config, can't read from file: %w", err)
	}
	if lines < 2 {
		return nil, errors.New("skipping kernel config, can't read from file: too short")
	}
	return values, nil
}
