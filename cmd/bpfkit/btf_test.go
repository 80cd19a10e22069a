package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// sameText compares bpfkit's and bpftool's output of the same command.
func sameText(t *testing.T, args ...string) {
	t.Helper()
	want := string(testutil.BpftoolOutput(t, args...))
	got := mustBpfkit(t, args...)
	if got != want {
		t.Errorf("bpfkit %s differs from bpftool:\n--- bpftool\n%s--- bpfkit\n%s", strings.Join(args, " "), want, got)
	}
}

// sameC78 compares bpfkit's `format c` output with bpftool v7.8.0's,
// sorted and unsorted: the unsorted headers must be the same; the sorted
// ones too (dumps of root types are never sorted), except that bpftool skips the first type of its sorted order
// (see docs/btf.md), which bpfkit prints before the kfuncs when nothing
// else printed it: that declaration must be one bpftool prints unsorted.
func sameC78(t *testing.T, args ...string) {
	t.Helper()
	c := append(append([]string{}, args...), "format", "c")
	unsorted := append(append([]string{}, c...), "unsorted")
	want := string(testutil.Bpftool78Output(t, unsorted...))
	if got := mustBpfkit(t, unsorted...); got != want {
		t.Errorf("bpfkit %s differs from bpftool v7.8.0:\n--- bpftool\n%s--- bpfkit\n%s", strings.Join(unsorted, " "), want, got)
	}
	sorted := string(testutil.Bpftool78Output(t, c...))
	got := mustBpfkit(t, c...)
	k := strings.Index(sorted, "\n/* BPF kfuncs */\n")
	if k < 0 { // root types (map key and value): no sorting, no kfuncs
		k = len(sorted)
	}
	n := len(got) - len(sorted)
	if n < 0 || got[:k] != sorted[:k] || got[k+n:] != sorted[k:] || !strings.Contains(want, got[k:k+n]) {
		t.Errorf("bpfkit %s differs from bpftool v7.8.0 by more than the type it skips:\n--- bpftool\n%s--- bpfkit\n%s", strings.Join(c, " "), sorted, got)
	}
}

// loadXDP loads testdata/xdp.bpf.o with cilium/ebpf: programs and maps
// with BTF. It returns the ids of the program xdp_filter and the map
// blocked.
func loadXDP(t *testing.T) (progID, mapID uint32) {
	t.Helper()
	coll := testutil.LoadCollection(t, testutil.Object(t, "xdp"))
	var err error
	for _, p := range coll.Programs {
		if progID, err = objects.Programs.ID(p); err != nil {
			t.Fatal(err)
		}
		break
	}
	if mapID, err = objects.Maps.ID(coll.Maps["blocked"]); err != nil {
		t.Fatal(err)
	}
	return progID, mapID
}

// newBTFMap creates a hash map whose key and value types cilium/ebpf
// describes in BTF: a struct with bitfields, an enum and a typedef.
func newBTFMap(t *testing.T) uint32 {
	t.Helper()
	u32 := &ebpfbtf.Int{Name: "unsigned int", Size: 4}
	u64 := &ebpfbtf.Int{Name: "long long unsigned int", Size: 8}
	state := &ebpfbtf.Enum{Name: "flow_state", Size: 4, Values: []ebpfbtf.EnumValue{{Name: "FLOW_NEW", Value: 0}, {Name: "FLOW_OPEN", Value: 1}}}
	key := &ebpfbtf.Typedef{Name: "flow_key_t", Type: &ebpfbtf.Struct{Name: "flow_key", Size: 8, Members: []ebpfbtf.Member{
		{Name: "addr", Type: u32},
		{Name: "port", Type: u32, Offset: 32, BitfieldSize: 16},
		{Name: "proto", Type: u32, Offset: 48, BitfieldSize: 8},
	}}}
	value := &ebpfbtf.Struct{Name: "flow_stats", Size: 16, Members: []ebpfbtf.Member{
		{Name: "bytes", Type: u64},
		{Name: "state", Type: state, Offset: 64},
	}}
	_, id := newMap(t, &ebpf.MapSpec{Name: "btf_flows", Type: ebpf.Hash, KeySize: 8, ValueSize: 16, MaxEntries: 4, Key: key, Value: value})
	return id
}

func TestBTFDumpMatchesBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	progID, mapID := loadXDP(t)
	flows := newBTFMap(t)

	sources := [][]string{
		{"prog", "id", itoa(progID)},
		{"map", "id", itoa(mapID)},
		{"map", "id", itoa(flows)},
	}
	for _, part := range []string{"key", "value", "kv", "all"} {
		sources = append(sources, []string{"map", "id", itoa(flows), part}, []string{"map", "id", itoa(mapID), part})
	}
	for _, src := range sources {
		for _, global := range [][]string{nil, {"-j"}, {"-p"}} {
			sameText(t, append(append(append([]string{}, global...), "btf", "dump"), src...)...)
		}
		sameText(t, append(append([]string{"btf", "dump"}, src...), "format", "raw")...)
		sameC78(t, append([]string{"btf", "dump"}, src...)...)
	}
	// bpftool 7.8 takes `unsorted` before `format` too, and as a prefix.
	for _, args := range [][]string{
		{"btf", "dump", "map", "id", itoa(flows), "all", "unsorted", "format", "c"},
		{"btf", "dump", "map", "id", itoa(flows), "all", "format", "c", "u"},
	} {
		if got, want := mustBpfkit(t, args...), string(testutil.Bpftool78Output(t, args...)); got != want {
			t.Errorf("bpfkit %s differs from bpftool v7.8.0:\n--- bpftool\n%s--- bpfkit\n%s", strings.Join(args, " "), want, got)
		}
	}
	// vmlinux by id, as the kernel hands it out.
	sameText(t, "btf", "dump", "id", "1")
	// The BTF object itself, by id.
	out := mustBpfkit(t, "-j", "btf", "show")
	var objs []objects.BTFInfo
	if err := json.Unmarshal([]byte(out), &objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if slices.Contains(o.MapIDs, flows) {
			sameText(t, "btf", "dump", "id", itoa(o.ID))
			sameText(t, "-j", "btf", "dump", "id", itoa(o.ID))
		}
	}
}

// TestBTFShowMatchesBpftool compares `btf show -j` with bpftool's, whose
// prog_ids and map_ids come in hash order: bpfkit sorts them.
func TestBTFShowMatchesBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	progID, mapID := loadXDP(t)
	flows := newBTFMap(t)

	var objs []objects.BTFInfo
	if err := json.Unmarshal([]byte(mustBpfkit(t, "-j", "btf", "show")), &objs); err != nil {
		t.Fatal(err)
	}
	var progBTF, mapBTF, flowsBTF uint32
	for _, o := range objs {
		if !slices.IsSorted(o.ProgIDs) || !slices.IsSorted(o.MapIDs) {
			t.Errorf("btf %d: ids not sorted: %v %v", o.ID, o.ProgIDs, o.MapIDs)
		}
		if slices.Contains(o.ProgIDs, progID) {
			progBTF = o.ID
		}
		if slices.Contains(o.MapIDs, mapID) {
			mapBTF = o.ID
		}
		if slices.Contains(o.MapIDs, flows) {
			flowsBTF = o.ID
		}
	}
	if progBTF == 0 || mapBTF == 0 || flowsBTF == 0 {
		t.Fatalf("BTF of program %d or maps %d, %d not listed: %+v", progID, mapID, flows, objs)
	}
	for _, id := range []uint32{1, progBTF, mapBTF, flowsBTF} {
		ids := itoa(id)
		got := mustBpfkit(t, "-j", "btf", "show", "id", ids)
		raw := testutil.BpftoolOutput(t, "-j", "btf", "show", "id", ids)
		want := testutil.DecodeJSON[map[string]any](t, raw)
		for _, k := range []string{"prog_ids", "map_ids"} {
			list := want[k].([]any)
			slices.SortFunc(list, func(a, b any) int { return strings.Compare(pad(a), pad(b)) })
		}
		sameFields(t, "btf "+ids, want, testutil.DecodeJSON[any](t, []byte(got)))
		sameOrder(t, "btf "+ids, fieldOrder(t, raw), fieldOrder(t, []byte(got)))
	}

	table := mustBpfkit(t, "btf", "show", "id", itoa(progBTF))
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME SIZE KERNEL PROG IDS MAP IDS" {
		t.Fatalf("table:\n%s", table)
	}
	if f := strings.Fields(lines[1]); f[0] != itoa(progBTF) || f[3] != "no" {
		t.Errorf("table row: %q", lines[1])
	}
	vmlinux := mustBpfkit(t, "btf", "show", "id", "1")
	if !strings.Contains(vmlinux, "vmlinux") || !strings.Contains(vmlinux, "yes") {
		t.Errorf("vmlinux row:\n%s", vmlinux)
	}
}

// TestBTFRootID dumps single types of vmlinux with root_id, which the
// installed bpftool (v7.1.0) lacks: a raw root is its line of the full
// dump; a C root holds its type and what it needs.
func TestBTFRootID(t *testing.T) {
	full := mustBpfkit(t, "btf", "dump", "file", "/sys/kernel/btf/vmlinux")
	var id, line string
	for _, l := range strings.Split(full, "\n") {
		if strings.Contains(l, "] STRUCT 'list_head' ") {
			id, line = strings.TrimPrefix(strings.Fields(l)[0], "["), l
			id = strings.TrimSuffix(id, "]")
			break
		}
	}
	if id == "" {
		t.Skip("no struct list_head")
	}
	raw := mustBpfkit(t, "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "root_id", id)
	if !strings.HasPrefix(raw, line+"\n") || !strings.Contains(full, raw) {
		t.Errorf("root_id %s raw:\n%s", id, raw)
	}
	c := mustBpfkit(t, "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c", "unsorted", "root_id", id)
	if !strings.Contains(c, "struct list_head {\n\tstruct list_head *next;\n\tstruct list_head *prev;\n};") || strings.Contains(c, "struct task_struct {") {
		t.Errorf("root_id %s C:\n%s", id, c)
	}
	if r := bpfkit(t, "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "root_id", "999999999"); r.code == 0 || !strings.Contains(r.stderr, "no type with ID 999999999") {
		t.Errorf("bad root_id: %+v", r)
	}
}

// pad sorts JSON numbers numerically as strings.
func pad(v any) string {
	s := string(v.(json.Number))
	return strings.Repeat("0", 12-len(s)) + s
}

func TestBTFErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"btf", "dump"}, "expected BTF source"},
		{[]string{"btf", "dump", "bogus", "1"}, "unrecognized BTF source specifier: 'bogus'"},
		{[]string{"btf", "dump", "id", "x"}, "can't parse x as ID"},
		{[]string{"btf", "dump", "file", "/nonexistent"}, "no such file"},
		{[]string{"btf", "dump", "file", "btf_test.go"}, "not BTF data"},
		{[]string{"btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "go"}, "unrecognized format specifier: 'go'"},
		{[]string{"btf", "dump", "file", "/sys/kernel/btf/vmlinux", "frobnicate"}, "unrecognized option: 'frobnicate'"},
		{[]string{"-j", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"}, "JSON output for C-syntax dump is not supported"},
		{[]string{"btf", "show", "id", "x"}, "can't parse x as ID"},
		{[]string{"btf", "dump", "id", "4000000000"}, "can't get BTF object by id (4000000000)"},
	} {
		r := bpfkit(t, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr+r.stdout, tc.want) {
			t.Errorf("bpfkit %s: exit %d, output %q %q; want an error with %q", strings.Join(tc.args, " "), r.code, r.stdout, r.stderr, tc.want)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("bpfkit %s: more than one error line: %q", strings.Join(tc.args, " "), r.stderr)
		}
	}
}
