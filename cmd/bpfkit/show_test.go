package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/pin"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// loadProg loads spec, unloads it when the test ends, and returns it with
// its ID.
func loadProg(t *testing.T, spec *ebpf.ProgramSpec) (*ebpf.Program, uint32) {
	t.Helper()
	p := testutil.NewProgram(t, spec)
	return p, mustID(t, objects.Programs, p)
}

// newMap creates a map from spec, closes it when the test ends, and returns
// it with its ID.
func newMap(t *testing.T, spec *ebpf.MapSpec) (*ebpf.Map, uint32) {
	t.Helper()
	m := testutil.NewMap(t, spec)
	return m, mustID(t, objects.Maps, m)
}

// mustID is the id of an object of noun.
func mustID[T pin.Pinner, I any](t *testing.T, noun *objects.Noun[T, I], obj T) uint32 {
	t.Helper()
	id, err := noun.ID(obj)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// sameFields checks that got has every field of want (bpftool's JSON
// object) with the same value. loaded_at may differ by a second: each tool
// reads the clocks at its own moment.
func sameFields(t *testing.T, what string, want, got any) {
	t.Helper()
	w, ok1 := want.(map[string]any)
	g, ok2 := got.(map[string]any)
	if !ok1 || !ok2 {
		t.Fatalf("%s: want two JSON objects, got %T and %T", what, want, got)
	}
	for k, wv := range w {
		gv, ok := g[k]
		if !ok {
			t.Errorf("%s: bpfkit lacks field %q (bpftool: %v)", what, k, wv)
			continue
		}
		if k == "loaded_at" {
			a, _ := wv.(json.Number).Int64()
			b, _ := gv.(json.Number).Int64()
			if a-b > 1 || b-a > 1 {
				t.Errorf("%s: loaded_at bpftool %d, bpfkit %d", what, a, b)
			}
			continue
		}
		if fmt.Sprint(wv) != fmt.Sprint(gv) {
			t.Errorf("%s: field %q: bpftool %v, bpfkit %v", what, k, wv, gv)
		}
	}
}

// fieldOrder returns the keys of a JSON object in the order they appear.
func fieldOrder(t *testing.T, obj []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(obj)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", obj)
	}
	var keys []string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key.(string))
	}
	return keys
}

// sameOrder checks that the fields both tools print come in the same order.
func sameOrder(t *testing.T, what string, want, got []string) {
	t.Helper()
	in := make(map[string]bool)
	for _, k := range want {
		in[k] = true
	}
	var common []string
	for _, k := range got {
		if in[k] {
			common = append(common, k)
		}
	}
	if strings.Join(common, ",") != strings.Join(want, ",") {
		t.Errorf("%s: field order: bpftool %v, bpfkit %v", what, want, common)
	}
}

// compareShow checks `bpfkit -j NOUN show id ID` (with the global flags
// first) against bpftool's: every field bpftool prints, with its value,
// in bpftool's order.
func compareShow(t *testing.T, noun string, id uint32, global ...string) {
	t.Helper()
	ids := strconv.FormatUint(uint64(id), 10)
	args := append(append([]string{}, global...), "-j", noun, "show", "id", ids)
	got := mustBpfkit(t, args...)
	want := testutil.BpftoolOutput(t, append(append([]string{"-j"}, global...), noun, "show", "id", ids)...)
	what := fmt.Sprintf("%s %s", noun, ids)
	sameFields(t, what, testutil.DecodeJSON[any](t, want), testutil.DecodeJSON[any](t, []byte(got)))
	sameOrder(t, what, fieldOrder(t, want), fieldOrder(t, []byte(got)))
}

func TestProgShowMatchesBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)

	_, plain := loadProg(t, &ebpf.ProgramSpec{
		Name: "bpfkit_t_plain", Type: ebpf.SocketFilter, License: "MIT", Instructions: testutil.ReturnZero(),
	})

	hash, _ := newMap(t, &ebpf.MapSpec{Name: "bpfkit_t_hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 8})
	arr, _ := newMap(t, &ebpf.MapSpec{Name: "bpfkit_t_arr", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	_, withMaps := loadProg(t, &ebpf.ProgramSpec{
		Name: "bpfkit_t_maps", Type: ebpf.SocketFilter, License: "GPL",
		Instructions: ebpfasm.Instructions{
			ebpfasm.LoadMapPtr(ebpfasm.R1, hash.FD()),
			ebpfasm.LoadMapPtr(ebpfasm.R1, arr.FD()),
			ebpfasm.Mov.Imm(ebpfasm.R0, 0),
			ebpfasm.Return(),
		},
	})

	// A BTF function name longer than the kernel's 15 characters.
	longName := "bpfkit_test_long_program_name"
	fn := &ebpfbtf.Func{
		Name:    longName,
		Type:    &ebpfbtf.FuncProto{Return: &ebpfbtf.Int{Name: "int", Size: 4, Encoding: ebpfbtf.Signed}},
		Linkage: ebpfbtf.GlobalFunc,
	}
	insns := testutil.ReturnZero()
	insns[0] = ebpfbtf.WithFuncMetadata(insns[0], fn)
	_, long := loadProg(t, &ebpf.ProgramSpec{
		Name: longName[:15], Type: ebpf.SocketFilter, License: "GPL", Instructions: insns,
	})

	for _, id := range []uint32{plain, withMaps, long} {
		compareShow(t, "prog", id)
	}

	got := testutil.DecodeJSON[any](t, []byte(mustBpfkit(t, "-j", "prog", "show", "id", strconv.FormatUint(uint64(long), 10))))
	if name := got.(map[string]any)["name"]; name != longName {
		t.Errorf("long name: got %v, want %s", name, longName)
	}
	// name matches the full BTF name, not the kernel's truncated one.
	if r := bpfkit(t, "-j", "prog", "show", "name", longName); r.code != 0 || !strings.Contains(r.stdout, longName) {
		t.Errorf("prog show name %s: exit %d, %s%s", longName, r.code, r.stdout, r.stderr)
	}
	if r := bpfkit(t, "prog", "show", "name", longName[:15]); r.code == 0 {
		t.Errorf("truncated name matched: %s", r.stdout)
	}
}

func TestProgShowStats(t *testing.T) {
	testutil.RequirePrivileged(t)
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		t.Fatalf("enable stats: %v", err)
	}
	defer stats.Close()
	p, id := loadProg(t, &ebpf.ProgramSpec{
		Name: "bpfkit_t_stats", Type: ebpf.SocketFilter, License: "MIT", Instructions: testutil.ReturnZero(),
	})
	if _, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 64), Repeat: 10}); err != nil {
		t.Fatalf("run program: %v", err)
	}
	compareShow(t, "prog", id)
	got := testutil.DecodeJSON[any](t, []byte(mustBpfkit(t, "-j", "prog", "show", "id", strconv.FormatUint(uint64(id), 10))))
	if _, ok := got.(map[string]any)["run_cnt"]; !ok {
		t.Errorf("no run_cnt with stats enabled: %v", got)
	}
}

func TestMapShowMatchesBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)

	var ids []uint32
	for _, spec := range []*ebpf.MapSpec{
		{Name: "bpfkit_t_hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16},
		{Name: "bpfkit_t_pcpu", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 16, MaxEntries: 4},
		{Name: "bpfkit_t_lru", Type: ebpf.LRUHash, KeySize: 8, ValueSize: 8, MaxEntries: 32, Flags: 0},
		{Name: "bpfkit_t_ringbuf", Type: ebpf.RingBuf, MaxEntries: 4096},
		{Name: "bpfkit_t_nopre", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: 1}, // BPF_F_NO_PREALLOC
		{Name: "bpfkit_t_btf", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4,
			Key:   &ebpfbtf.Int{Name: "u32", Size: 4},
			Value: &ebpfbtf.Int{Name: "u32", Size: 4}},
	} {
		_, id := newMap(t, spec)
		ids = append(ids, id)
	}

	frozen, id := newMap(t, &ebpf.MapSpec{Name: "bpfkit_t_frozen", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err := frozen.Freeze(); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, id)

	// A prog array gets its owner's type once a program is stored in it.
	progs, id := newMap(t, &ebpf.MapSpec{Name: "bpfkit_t_jmp", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	ids = append(ids, id)
	p, _ := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_tail", Type: ebpf.SocketFilter, License: "MIT", Instructions: testutil.ReturnZero()})
	if err := progs.Put(uint32(0), p); err != nil {
		t.Fatal(err)
	}

	for _, id := range ids {
		compareShow(t, "map", id)
	}
	got := testutil.DecodeJSON[any](t, []byte(mustBpfkit(t, "-j", "map", "show", "id", strconv.FormatUint(uint64(id), 10))))
	if got.(map[string]any)["owner_prog_type"] != "socket_filter" {
		t.Errorf("prog array owner: %v", got)
	}

	// In a list, a map without BTF has no btf_id (bpftool's list shows a
	// stale one on Linux >= 6.18 because it reuses its info struct).
	list := testutil.DecodeJSON[any](t, []byte(mustBpfkit(t, "-j", "map", "show", "name", "bpfkit_t_hash")))
	for _, m := range list.([]any) {
		if _, ok := m.(map[string]any)["btf_id"]; ok {
			t.Errorf("map without BTF has btf_id in a list: %v", m)
		}
	}
}

func TestLinkShowMatchesBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	if err := objects.EnsureTracefs(); err != nil {
		t.Fatal(err)
	}
	tp, _ := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_tp", Type: ebpf.TracePoint, License: "GPL", Instructions: testutil.ReturnZero()})
	kp, _ := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_kp", Type: ebpf.Kprobe, License: "GPL", Instructions: testutil.ReturnZero()})
	rawtp, _ := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_rawtp", Type: ebpf.RawTracepoint, License: "GPL", Instructions: testutil.ReturnZero()})
	// fentry and lsm programs are refused (EPERM) on this kernel; tp_btf
	// is a tracing program too (the kernel links it as a raw tracepoint).
	tpBTF, _ := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_tpbtf", Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp,
		AttachTo: "sched_switch", License: "GPL", Instructions: testutil.ReturnZero()})
	iter, _ := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_iter", Type: ebpf.Tracing, AttachType: ebpf.AttachTraceIter,
		AttachTo: "bpf_map", License: "GPL", Instructions: testutil.ReturnZero()})

	var links []link.Link
	attach := func(l link.Link, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("attach: %v", err)
		}
		t.Cleanup(func() { l.Close() })
		links = append(links, l)
	}
	attach(link.Tracepoint("syscalls", "sys_enter_openat", tp, nil))
	// This kernel has no kprobes (CONFIG_KPROBES unset); a uprobe makes a
	// perf_event link of the probe kind.
	exe, err := link.OpenExecutable("/lib/x86_64-linux-gnu/libc.so.6")
	if err != nil {
		t.Fatal(err)
	}
	attach(exe.Uretprobe("malloc", kp, &link.UprobeOptions{}))
	attach(link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sched_switch", Program: rawtp}))
	attach(link.AttachTracing(link.TracingOptions{Program: tpBTF}))
	attach(link.AttachIter(link.IterOptions{Program: iter}))

	for _, l := range links {
		id, err := objects.Links.ID(l)
		if err != nil {
			t.Fatal(err)
		}
		compareShow(t, "link", id)
	}
	// HEAD bpftool's details, which Debian's v7.1.0 does not print.
	for i, want := range map[int]string{
		0: perfLinkDetail(t, `"tracepoint":"sys_enter_openat","cookie":0`),
		1: perfLinkDetail(t, `"retprobe":true,"file":"`),
		2: `"tp_name":"sched_switch","cookie":0`,
		3: `"type":"raw_tracepoint","prog_id":`, // tp_btf attaches through a raw tracepoint link
		4: `"target_name":"bpf_map"`,
	} {
		id, _ := objects.Links.ID(links[i])
		if out := mustBpfkit(t, "-j", "link", "show", "id", itoa(id)); !strings.Contains(out, want) {
			t.Errorf("link %d: %s lacks %s", id, out, want)
		}
	}
}

func TestShowPinnedPaths(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := testutil.PinDir(t)
	p, id := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_pin", Type: ebpf.SocketFilter, License: "MIT", Instructions: testutil.ReturnZero()})
	path := filepath.Join(dir, "prog")
	if err := p.Pin(path); err != nil {
		t.Fatal(err)
	}
	m, mid := newMap(t, &ebpf.MapSpec{Name: "bpfkit_t_pinm", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err := m.Pin(filepath.Join(dir, "map")); err != nil {
		t.Fatal(err)
	}
	compareShow(t, "prog", id, "-f")
	compareShow(t, "map", mid, "-f")

	// pinned PATH selects the same object, and the wrong kind is an error.
	out := mustBpfkit(t, "-j", "prog", "show", "pinned", path)
	if !strings.Contains(out, fmt.Sprintf(`"id":%d`, id)) {
		t.Errorf("prog show pinned: %s", out)
	}
	r := bpfkit(t, "map", "show", "pinned", path)
	if r.code == 0 || !strings.Contains(r.stderr, "incorrect object type") {
		t.Errorf("map show pinned PROG: exit %d, stderr %q", r.code, r.stderr)
	}
}
