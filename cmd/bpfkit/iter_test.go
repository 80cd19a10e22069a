package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestIterPin: iter pin loads an iterator, pins its link (bpftool sees an
// iter link on the bpf_map target), reading the pin runs it, and removing
// the pin frees the link and program. Bad input fails in one line and
// leaves nothing behind.
func TestIterPin(t *testing.T) {
	dir := i10PinDir(t)
	pin := filepath.Join(dir, "maps")
	if out := mustBpfkit(t, "-j", "iter", "pin", testutil.Testdata(t, "attach/iter_maps.bpf.o"), pin); out != "null\n" {
		t.Errorf("iter pin -j: %q, want null", out)
	}
	type iterLink struct {
		ID         uint32 `json:"id"`
		Type       string `json:"type"`
		ProgID     uint32 `json:"prog_id"`
		TargetName string `json:"target_name"`
	}
	link := testutil.BpftoolJSON[iterLink](t, "link", "show", "pinned", pin)
	if link.Type != "iter" || link.TargetName != "bpf_map" {
		t.Errorf("bpftool link show pinned %s: %+v, want an iter link on bpf_map", pin, link)
	}
	if p := mustBpfkit(t, "-j", "prog", "show", "id", itoa(link.ProgID)); !strings.Contains(p, `"name":"i10_iter_maps"`) {
		t.Errorf("the iterator's program: %s", p)
	}
	data, err := os.ReadFile(pin)
	if err != nil {
		t.Fatal(err)
	}
	// One line per map; our own program's maps at least.
	if lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"); len(lines) == 0 || lines[0] != "map" {
		t.Errorf("cat %s: %q, want a line per map", pin, data)
	}
	if err := os.Remove(pin); err != nil {
		t.Fatal(err)
	}
	testutil.AssertGone(t, map[string][]uint32{"link": {link.ID}, "prog": {link.ProgID}})

	// With a map: a bpf_map_elem iterator over a map the test fills.
	m, mapID := newMap(t, &ebpf.MapSpec{Name: "i10_iter_map", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	if err := m.Put(uint32(7), uint32(1)); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys")
	r := bpfkit(t, "iter", "pin", testutil.Testdata(t, "attach/iter_keys.bpf.o"), keys, "map", "id", itoa(mapID))
	if r.code == 0 {
		if data, err := os.ReadFile(keys); err != nil || string(data) != "key 7\n" {
			t.Errorf("cat %s: %q, %v; want key 7", keys, data, err)
		}
		os.Remove(keys)
	} else {
		// Linux 6.18 on the test VM refuses to load bpf_map_elem
		// iterators (EPERM, as it does for bpftool's own): bpfkit must
		// say so in one line and leave nothing.
		t.Logf("the kernel refused the bpf_map_elem iterator: %s", r.stderr)
		if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "i10_iter_keys") {
			t.Errorf("iter pin with a refused program: %q", r.stderr)
		}
		if _, err := os.Lstat(keys); err == nil {
			t.Errorf("a failed iter pin left %s", keys)
		}
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{}, "i10_iter_keys", "i10_iter_maps")

	fails := func(want string, args ...string) {
		t.Helper()
		r := bpfkit(t, args...)
		if r.code == 0 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("bpfkit %s: exit %d, stdout %q, stderr %q; want one error line with %q", strings.Join(args, " "), r.code, r.stdout, r.stderr, want)
		}
		if _, err := os.Lstat(pin); err == nil {
			t.Errorf("bpfkit %s left %s", strings.Join(args, " "), pin)
		}
	}
	fails("is not an iterator", "iter", "pin", testutil.Object(t, "xdp"), pin)
	fails("not on a BPF filesystem", "iter", "pin", testutil.Testdata(t, "attach/iter_maps.bpf.o"), "/tmp/i10_iter")
	fails("no such file", "iter", "pin", "/nonexistent.bpf.o", pin)
	fails("incorrect map spec", "iter", "pin", testutil.Testdata(t, "attach/iter_maps.bpf.o"), pin, "map", "bogus", "1")
	fails("expected 'map', got: 'bogus'", "iter", "pin", testutil.Testdata(t, "attach/iter_maps.bpf.o"), pin, "bogus")
	testutil.WaitCountsAtMost(t, testutil.Counts{}, "i10_iter_maps")
}
