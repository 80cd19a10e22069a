package features

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

const sampleConfig = `#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.18.0 Kernel Configuration
#
CONFIG_BPF=y
# CONFIG_BPF_LIRC_MODE2 is not set
CONFIG_HZ=250
CONFIG_EMPTY=
CONFIG_BPF=m
`

func TestParseKernelConfig(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(sampleConfig))
	zw.Close()
	for name, data := range map[string][]byte{"plain": []byte(sampleConfig), "gzip": gz.Bytes()} {
		values, err := parseKernelConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The first value wins, as bpftool keeps the first it reads;
		// empty values and comments are not options.
		if values["CONFIG_BPF"] != "y" || values["CONFIG_HZ"] != "250" || len(values) != 2 {
			t.Errorf("%s: %v", name, values)
		}
	}
	for _, bad := range []string{"", "#\n# something else\nCONFIG_BPF=y\n", "\x1f\x8bnot gzip"} {
		if _, err := parseKernelConfig(strings.NewReader(bad)); err == nil || !strings.HasPrefix(err.Error(), "skipping kernel config") {
			t.Errorf("%q: error %v, want bpftool's 'skipping kernel config'", bad, err)
		}
	}
}

func TestReadSysctl(t *testing.T) {
	if v := readSysctl("/proc/sys/net/core/bpf_jit_enable"); v < 0 {
		t.Errorf("bpf_jit_enable reads %d", v)
	}
	if v := readSysctl("/proc/sys/kernel/i12_no_such_sysctl"); v != -1 {
		t.Errorf("a missing sysctl reads %d, want -1", v)
	}
	if v := readSysctl("/proc/sys/kernel/osrelease"); v != -1 {
		t.Errorf("a sysctl that is not a number reads %d, want -1", v)
	}
}
