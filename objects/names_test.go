package objects

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// TestNamesMatchKernel checks the name tables against the running kernel's
// own enums: every value the kernel knows has the enum's name, lower-cased
// and without its prefix.
func TestNamesMatchKernel(t *testing.T) {
	spec, err := ebpfbtf.LoadKernelSpec()
	if err != nil {
		t.Fatalf("load kernel BTF: %v", err)
	}
	for _, tc := range []struct {
		enum, prefix string
		table        []string
	}{
		{"bpf_prog_type", "BPF_PROG_TYPE_", progTypeNames},
		{"bpf_map_type", "BPF_MAP_TYPE_", mapTypeNames},
		{"bpf_link_type", "BPF_LINK_TYPE_", linkTypeNames},
		{"bpf_attach_type", "BPF_", attachTypeNames},
	} {
		var enum *ebpfbtf.Enum
		if err := spec.TypeByName(tc.enum, &enum); err != nil {
			t.Fatalf("enum %s: %v", tc.enum, err)
		}
		for _, v := range enum.Values {
			name := strings.ToLower(strings.TrimPrefix(v.Name, tc.prefix))
			// The sentinel after the last value: __MAX_BPF_..., or
			// MAX_BPF_LINK_TYPE on kernels before 6.2.
			if strings.HasPrefix(name, "__max") || strings.HasPrefix(name, "max_") || strings.HasSuffix(name, "_deprecated") {
				continue
			}
			if v.Value >= uint64(len(tc.table)) {
				t.Errorf("%s: %s (%d) is missing from the table", tc.enum, v.Name, v.Value)
				continue
			}
			if got := tc.table[v.Value]; got != name {
				t.Errorf("%s %d: table says %q, kernel %q", tc.enum, v.Value, got, name)
			}
		}
	}
}

func TestTypeNameFallback(t *testing.T) {
	if got := ProgTypeName(ebpf.ProgramType(1000)); got.String() != "1000" || got.Known() {
		t.Errorf("unknown program type: %+v", got)
	}
	b, _ := MapTypeName(ebpf.MapType(1000)).MarshalJSON()
	if string(b) != "1000" {
		t.Errorf("unknown map type JSON: %s", b)
	}
	b, _ = MapTypeName(ebpf.PerCPUHash).MarshalJSON()
	if string(b) != `"percpu_hash"` {
		t.Errorf("percpu_hash JSON: %s", b)
	}
	if mt, ok := MapTypeByName("lpm_trie"); !ok || mt != ebpf.LPMTrie {
		t.Errorf("MapTypeByName(lpm_trie) = %v, %v", mt, ok)
	}
	if pt, ok := ProgTypeByName("xdp"); !ok || pt != ebpf.XDP {
		t.Errorf("ProgTypeByName(xdp) = %v, %v", pt, ok)
	}
}
