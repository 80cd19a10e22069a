package objects

import (
	"strings"
	"testing"
)

const sampleKallsyms = `ffffffff81000000 T _stext
ffffffff814cc810 T __bpf_call_base
ffffffff814cc810 T bpf_alias_first
ffffffff81500000 t __htab_map_lookup_elem
0000000000000000 A fixed_percpu_data
ffffffffc0a01000 t bpf_prog_4b543f3eaffe3e92_helper_sub	[bpf]
ffffffffc0b00000 T nf_hook_x	[nf_tables]
garbage line
`

func TestParseKallsyms(t *testing.T) {
	k, err := ParseKallsyms(strings.NewReader(sampleKallsyms))
	if err != nil {
		t.Fatal(err)
	}
	if k.CallBase() != 0xffffffff814cc810 {
		t.Errorf("call base %#x", k.CallBase())
	}
	if k.Len() != 6 {
		t.Errorf("%d symbols, want 6 (zero addresses dropped)", k.Len())
	}
	if name, ok := k.Lookup(0xffffffff81500000); !ok || name != "__htab_map_lookup_elem" {
		t.Errorf("lookup: %q %v", name, ok)
	}
	if name, ok := k.Lookup(0xffffffffc0a01000); !ok || name != "bpf_prog_4b543f3eaffe3e92_helper_sub" {
		t.Errorf("module symbol: %q %v", name, ok)
	}
	if _, ok := k.Lookup(0xffffffff81500001); ok {
		t.Error("lookup is not exact")
	}
	// Aliases: the binary search probes index (0+6)/2 = 3 first, which
	// is __htab_map_lookup_elem; then index 1, __bpf_call_base.
	if name, _ := k.Lookup(0xffffffff814cc810); name != "__bpf_call_base" {
		t.Errorf("alias resolved to %q", name)
	}
	if s, off, ok := k.Nearest(0xffffffff81500010); !ok || s.Name != "__htab_map_lookup_elem" || off != 0x10 {
		t.Errorf("nearest: %v %#x %v", s, off, ok)
	}
	if _, _, ok := k.Nearest(0x10); ok {
		t.Error("nearest below the first symbol")
	}
}

func TestParseKallsymsRestricted(t *testing.T) {
	k, err := ParseKallsyms(strings.NewReader("0000000000000000 T __bpf_call_base\n0000000000000000 T foo\n"))
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 0 || k.CallBase() != 0 {
		t.Errorf("restricted kallsyms gave %d symbols, base %#x", k.Len(), k.CallBase())
	}
	if _, err := ParseKallsyms(strings.NewReader("zzzz T foo\n")); err == nil {
		t.Error("bad address accepted")
	}
}

func TestLoadKallsyms(t *testing.T) {
	k, err := LoadKallsyms()
	if err != nil {
		t.Skipf("no /proc/kallsyms: %v", err)
	}
	if k.Len() > 0 && k.CallBase() == 0 {
		t.Error("symbols but no __bpf_call_base")
	}
}
