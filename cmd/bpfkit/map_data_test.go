package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// sameAsBpftool runs the command (global flags first) with bpfkit and
// bpftool and compares stdout byte for byte.
func sameAsBpftool(t *testing.T, args ...string) string {
	t.Helper()
	want, _ := testutil.Bpftool(t, args...)
	got := bpfkit(t, args...)
	if got.stdout != string(want) {
		t.Errorf("bpfkit %s:\n--- bpfkit (exit %d, stderr %q)\n%s--- bpftool\n%s", strings.Join(args, " "), got.code, got.stderr, got.stdout, want)
	}
	return got.stdout
}

// runEmit runs mapdata.bpf.o's emit program once, on any CPU.
func runEmit(t *testing.T, coll *ebpf.Collection) {
	t.Helper()
	if _, err := coll.Programs["emit"].Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
		t.Fatalf("run emit: %v", err)
	}
}

// mapIDOf returns the ID of m as a command-line word.
func mapIDOf(t *testing.T, m *ebpf.Map) string {
	t.Helper()
	id, err := objects.Maps.ID(m)
	if err != nil {
		t.Fatal(err)
	}
	return itoa(id)
}

// TestMapDumpObject compares dumps, lookups and getnext of a loaded
// object's maps (BTF-typed hash, per-CPU array, .data, .bss, .rodata).
func TestMapDumpObject(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	coll := testutil.LoadCollection(t, testutil.Object(t, "mapdata"))
	runEmit(t, coll)
	runEmit(t, coll)
	flows := mapIDOf(t, coll.Maps["flows"])

	// Typed update: a struct key and value given as JSON words.
	mustBpfkit(t, "map", "update", "id", flows,
		"key", `{"saddr":16777343,"port":443,"proto":6}`,
		"value", `{"packets":5,"bytes":200,"comm":"abc","mode":"MODE_ON","small":3,"big":1000,"u":{"word":7},"seen":true}`)
	// Raw update, as bpftool takes it.
	mustBpfkit(t, "map", "update", "id", flows, "key", "hex", "0a", "00", "00", "01", "35", "00", "11", "00",
		"value", "1", "0", "0", "0", "0", "0", "0", "0", "2", "0", "0", "0", "0", "0", "0", "0",
		"0x64", "0x6e", "0x73", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0",
		"0", "0", "0", "0", "0", "0", "0", "0", "noexist")

	for name, m := range coll.Maps {
		if name == "perf_events" || name == "ring" {
			continue
		}
		id := mapIDOf(t, m)
		for _, g := range [][]string{nil, {"-j"}, {"-p"}} {
			sameAsBpftool(t, append(g, "map", "dump", "id", id)...)
		}
	}
	key := []string{"key", "0x7f", "0", "0", "1", "0xbb", "1", "6", "0"}
	for _, g := range [][]string{nil, {"-j"}, {"-p"}} {
		sameAsBpftool(t, append(append(g, "map", "lookup", "id", flows), key...)...)
		sameAsBpftool(t, append(g, "map", "getnext", "id", flows)...)
		if g == nil || g[0] != "-p" { // errors print compact JSON
			sameAsBpftool(t, append(append(g, "map", "getnext", "id", flows), key...)...)
		}
		sameAsBpftool(t, append(g, "map", "lookup", "id", mapIDOf(t, coll.Maps["hits"]), "key", "0", "0", "0", "0")...)
	}
	// A typed key finds the same element as the raw one.
	typed := mustBpfkit(t, "map", "lookup", "id", flows, "key", `{"saddr":16777343,"port":443,"proto":6}`)
	raw := mustBpfkit(t, append([]string{"map", "lookup", "id", flows}, key...)...)
	if typed != raw || !strings.Contains(typed, `"comm": "abc"`) {
		t.Errorf("typed lookup:\n%s\nraw lookup:\n%s", typed, raw)
	}
	// Not found: bpftool's text on stdout (null with -j), nothing on
	// stderr, and a non-zero exit.
	missing := []string{"map", "lookup", "id", flows, "key", "1", "2", "3", "4", "5", "6", "7", "8"}
	for _, json := range []bool{false, true} {
		args := missing
		if json {
			args = append([]string{"-j"}, missing...)
		}
		r := bpfkit(t, args...)
		want, _ := testutil.Bpftool(t, args...)
		if r.code == 0 || r.stdout != string(want) || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want stdout %q", args, r.code, r.stdout, r.stderr, want)
		}
	}
}

// TestMapVerbs creates, fills, pins and freezes maps with bpfkit and checks
// the results with bpftool.
func TestMapVerbs(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	dir := testutil.PinDir(t)
	h := filepath.Join(dir, "h")
	if out := mustBpfkit(t, "-j", "map", "create", h, "type", "hash", "key", "4", "value", "8", "entries", "16", "name", "bpfkit_t_h"); out != "null\n" {
		t.Errorf("create -j printed %q", out)
	}
	show := testutil.BpftoolJSON[map[string]any](t, "map", "show", "pinned", h)
	if show["name"] != "bpfkit_t_h" || show["type"] != "hash" || show["max_entries"].(interface{ String() string }).String() != "16" {
		t.Errorf("created map: %v", show)
	}
	mustBpfkit(t, "map", "update", "pinned", h, "key", "10", "0", "0", "0", "value", "hex", "ff", "ee", "dd", "cc", "bb", "aa", "99", "88")
	mustBpfkit(t, "map", "update", "pinned", h, "key", "hex", "01", "00", "00", "00", "value", "1", "0", "0", "0", "0", "0", "0", "0", "noexist")
	mustBpfkit(t, "map", "update", "pinned", h, "key", "2", "0", "0", "0", "value", "16", "0", "0", "0", "0", "0", "0", "0", "any")
	for _, g := range [][]string{nil, {"-j"}, {"-p"}} {
		sameAsBpftool(t, append(g, "map", "dump", "pinned", h)...)
		sameAsBpftool(t, append(g, "map", "lookup", "pinned", h, "key", "2", "0", "0", "0")...)
		if g == nil || g[0] != "-p" { // errors print compact JSON
			sameAsBpftool(t, append(g, "map", "getnext", "pinned", h, "key", "2", "0", "0", "0")...)
		}
	}
	mustBpfkit(t, "map", "delete", "pinned", h, "key", "2", "0", "0", "0")
	if out, _ := testutil.Bpftool(t, "map", "dump", "pinned", h); !strings.HasSuffix(string(out), "Found 2 elements\n") {
		t.Errorf("after delete:\n%s", out)
	}

	// pin and freeze
	h2 := filepath.Join(dir, "h2")
	mustBpfkit(t, "map", "pin", "pinned", h, h2)
	mustBpfkit(t, "map", "freeze", "pinned", h2)
	if show := testutil.BpftoolJSON[map[string]any](t, "map", "show", "pinned", h); show["frozen"].(interface{ String() string }).String() != "1" {
		t.Errorf("not frozen: %v", show)
	}

	// queue
	q := filepath.Join(dir, "q")
	mustBpfkit(t, "map", "create", q, "type", "queue", "key", "0", "value", "4", "entries", "4", "name", "bpfkit_t_q")
	mustBpfkit(t, "map", "enqueue", "pinned", q, "value", "1", "2", "3", "4")
	mustBpfkit(t, "map", "push", "pinned", q, "value", "5", "6", "7", "8")
	sameAsBpftool(t, "map", "peek", "pinned", q)
	sameAsBpftool(t, "-j", "map", "peek", "pinned", q)
	if out := mustBpfkit(t, "map", "dequeue", "pinned", q); out != "value: 01 02 03 04\n" {
		t.Errorf("dequeue printed %q", out)
	}
	if out := mustBpfkit(t, "-j", "map", "pop", "pinned", q); out != `{"key":[],"value":["0x05","0x06","0x07","0x08"]}`+"\n" {
		t.Errorf("pop -j printed %q", out)
	}

	// stack
	st := filepath.Join(dir, "st")
	mustBpfkit(t, "map", "create", st, "type", "stack", "key", "0", "value", "8", "entries", "4", "name", "bpfkit_t_st")
	mustBpfkit(t, "map", "push", "pinned", st, "value", "1", "0", "0", "0", "0", "0", "0", "0")
	mustBpfkit(t, "map", "push", "pinned", st, "value", "hex", "02", "00", "00", "00", "00", "00", "00", "ff")
	sameAsBpftool(t, "map", "peek", "pinned", st)
	sameAsBpftool(t, "-p", "map", "peek", "pinned", st)
	if out := mustBpfkit(t, "map", "pop", "pinned", st); out != "value: 02 00 00 00 00 00 00 ff\n" {
		t.Errorf("pop printed %q", out)
	}

	// per-CPU: one value for every CPU, as bpftool's fill_per_cpu_value
	pc := filepath.Join(dir, "pc")
	mustBpfkit(t, "map", "create", pc, "type", "percpu_hash", "key", "4", "value", "20", "entries", "4", "name", "bpfkit_t_pc")
	mustBpfkit(t, "map", "update", "pinned", pc, "key", "1", "0", "0", "0", "value", "hex",
		"01", "02", "03", "04", "05", "06", "07", "08", "09", "0a", "0b", "0c", "0d", "0e", "0f", "10", "11", "12", "13", "14")
	sameAsBpftool(t, "map", "dump", "pinned", pc)
	sameAsBpftool(t, "-j", "map", "lookup", "pinned", pc, "key", "1", "0", "0", "0")

	// prog array and map in map, with MAP and PROG values
	_, progID := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_pa", Type: ebpf.SocketFilter, License: "GPL", Instructions: testutil.ReturnZero()})
	pa := filepath.Join(dir, "pa")
	mustBpfkit(t, "map", "create", pa, "type", "prog_array", "key", "4", "value", "4", "entries", "4", "name", "bpfkit_t_pa")
	mustBpfkit(t, "map", "update", "pinned", pa, "key", "2", "0", "0", "0", "value", "id", itoa(progID))
	sameAsBpftool(t, "map", "dump", "pinned", pa)
	sameAsBpftool(t, "-j", "map", "dump", "pinned", pa)
	inner := filepath.Join(dir, "inner")
	mustBpfkit(t, "map", "create", inner, "type", "array", "key", "4", "value", "4", "entries", "2", "name", "bpfkit_t_in")
	aom := filepath.Join(dir, "aom")
	mustBpfkit(t, "map", "create", aom, "type", "array_of_maps", "key", "4", "value", "4", "entries", "2", "name", "bpfkit_t_aom", "inner_map", "pinned", inner)
	mustBpfkit(t, "map", "update", "pinned", aom, "key", "1", "0", "0", "0", "value", "pinned", inner)
	got := mustBpfkit(t, "map", "dump", "pinned", aom)
	innerID := testutil.BpftoolJSON[map[string]any](t, "map", "show", "pinned", inner)["id"]
	if want := "key: 01 00 00 00  inner_map_id: " + innerID.(interface{ String() string }).String() + " \nFound 1 element\n"; got != want {
		t.Errorf("array_of_maps dump:\n%s\nwant:\n%s", got, want)
	}

	// A name that matches several maps dumps each, with a header.
	mustBpfkit(t, "map", "create", filepath.Join(dir, "dup1"), "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "bpfkit_t_dup")
	mustBpfkit(t, "map", "create", filepath.Join(dir, "dup2"), "type", "array", "key", "4", "value", "4", "entries", "2", "name", "bpfkit_t_dup")
	mustBpfkit(t, "map", "update", "pinned", filepath.Join(dir, "dup1"), "key", "1", "0", "0", "0", "value", "2", "0", "0", "0")
	for _, g := range [][]string{nil, {"-j"}, {"-p"}} {
		sameAsBpftool(t, append(g, "map", "dump", "name", "bpfkit_t_dup")...)
	}

	// Malformed input and refused operations: one clear error each.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"map", "lookup", "pinned", h, "key", "1", "0", "0"}, "key expected 4 bytes got 3"},
		{[]string{"map", "lookup", "pinned", h, "key", "1", "0", "0", "0", "0"}, "expected key or value, got: 0"},
		{[]string{"map", "update", "pinned", h, "key", "hex", "zz", "0", "0", "0", "value", "0", "0", "0", "0", "0", "0", "0", "0"}, "error parsing byte: zz"},
		{[]string{"map", "update", "pinned", h, "key", "1", "0", "0", "0", "value", "0", "0", "0", "0", "0", "0", "0", "0", "sometimes"}, "expected key or value, got: sometimes"},
		{[]string{"map", "update", "pinned", pc, "key", "1", "0", "0", "0", "value", "hex",
			"01", "02", "03", "04", "05", "06", "07", "08", "09", "0a", "0b", "0c", "0d", "0e", "0f", "10", "11", "12", "13", "14", "noexist"}, "update failed: File exists"},
		{[]string{"map", "update", "pinned", h2, "key", "1", "0", "0", "0", "value", "0", "0", "0", "0", "0", "0", "0", "0"}, "update failed: Operation not permitted: the map is frozen"},
		{[]string{"map", "dump", "pinned", q}, "dump map: queue maps cannot be dumped: they have no keys; use map peek or map pop"},
		{[]string{"map", "pop", "pinned", q}, "empty map"},
		{[]string{"map", "create", filepath.Join(dir, "x"), "type", "hash", "key", "4", "value", "4", "entries", "4"}, "map name not specified"},
		{[]string{"map", "create", filepath.Join(dir, "x"), "type", "nosuch", "name", "x"}, "unrecognized map type: nosuch"},
		{[]string{"map", "event_pipe", "pinned", h}, "map is not a perf event array or a ring buffer"},
	} {
		r := bpfkit(t, c.args...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("bpfkit %s: exit %d, stderr %q, want one line with %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
}

// loadMapdataWithLibbpf loads mapdata.bpf.o with `bpftool prog loadall`
// (libbpf), so that the program's BTF holds every type of the object,
// struct event included. It returns the emit program, as the only program
// of a collection, and the directory the maps are pinned in; all of it
// goes when the test ends.
func loadMapdataWithLibbpf(t *testing.T) (coll *ebpf.Collection, maps string) {
	t.Helper()
	dir := testutil.PinDir(t)
	maps = filepath.Join(dir, "maps")
	testutil.BpftoolOutput(t, "prog", "loadall", testutil.Object(t, "mapdata"), filepath.Join(dir, "progs"), "pinmaps", maps)
	prog, err := ebpf.LoadPinnedProgram(filepath.Join(dir, "progs", "emit"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	return &ebpf.Collection{Programs: map[string]*ebpf.Program{"emit": prog}}, maps
}

// TestEventPipe reads records a test program writes to a perf event array
// and a ring buffer, raw and decoded with BTF.
func TestEventPipe(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll, maps := loadMapdataWithLibbpf(t)
	ring := filepath.Join(maps, "ring")
	perf := filepath.Join(maps, "perf_events")

	// Ring buffer records stay until read: write first, then read.
	runEmit(t, coll)
	runEmit(t, coll)
	out := mustBpfkit(t, "map", "event_pipe", "pinned", ring, "count", "2")
	re := regexp.MustCompile(`^== @\d+\.\d{9} ring buffer =====\n2a 00 00 00 03 00 00 00  07 00 00 00 00 00 00 00\n65 76 74 00 00 00 00 00\n== @\d+\.\d{9} ring buffer =====\n2a 00 00 00 03 00 00 00  08 00 00 00 00 00 00 00\n65 76 74 00 00 00 00 00\n$`)
	if !re.MatchString(out) {
		t.Errorf("ring buffer event_pipe:\n%s", out)
	}
	runEmit(t, coll)
	out = mustBpfkit(t, "-j", "map", "event_pipe", "pinned", ring, "count", "1", "type", "event")
	re = regexp.MustCompile(`^\[\{"type":"ringbuf","timestamp":\d+,"data":\[42,0,0,0,3,0,0,0,9,0,0,0,0,0,0,0,101,118,116,0,0,0,0,0\],"formatted":\{"pid":42,"cpu_hint":3,"value":9,"comm":"evt"\}\}\]\n$`)
	if !re.MatchString(out) {
		t.Errorf("ring buffer event_pipe -j type event:\n%s", out)
	}

	// A type of another size, or cpu/index on a ring buffer: clear errors.
	runEmit(t, coll)
	if r := bpfkit(t, "map", "event_pipe", "pinned", ring, "count", "1", "type", "u64"); r.code == 0 ||
		!strings.Contains(r.stderr, "a 24-byte record is not a u64 (8 bytes)") {
		t.Errorf("event_pipe with a type of the wrong size: %+v", r)
	}
	if r := bpfkit(t, "map", "event_pipe", "pinned", ring, "cpu", "0", "index", "0"); r.code == 0 ||
		!strings.Contains(r.stderr, "cpu and index apply to perf event arrays") {
		t.Errorf("event_pipe cpu/index on a ring buffer: %+v", r)
	}

	// Perf records need the reader first: emit until it has one.
	for _, args := range [][]string{
		{"map", "event_pipe", "pinned", perf, "count", "1"},
		{"map", "event_pipe", "pinned", perf, "cpu", "1", "index", "1", "count", "1"},
		{"-j", "map", "event_pipe", "pinned", perf, "count", "1", "type", "event"},
	} {
		r := bpfkitWhileEmitting(t, coll, func(i int) int { return i % 2 }, args...)
		if r.code != 0 {
			t.Fatalf("event_pipe %v: exit %d: %s", args, r.code, r.stderr)
		}
		plain := regexp.MustCompile(`^== @\d+\.\d{9} CPU: (\d+) index: (\d+) =====\n2a 00 00 00 03 00 00 00  [0-9a-f]{2} 00 00 00 00 00 00 00\n65 76 74 00 00 00 00 00  00 00 00 00\n$`)
		js := regexp.MustCompile(`^\[\{"type":9,"cpu":\d+,"index":\d+,"timestamp":\d+,"data":\[42,0,0,0,3,0,0,0,\d+,0,0,0,0,0,0,0,101,118,116,0,0,0,0,0,0,0,0,0\],"formatted":\{"pid":42,"cpu_hint":3,"value":\d+,"comm":"evt"\}\}\]\n$`)
		if m := plain.FindStringSubmatch(r.stdout); m != nil && m[1] != m[2] {
			t.Errorf("perf event_pipe %v: CPU %s at index %s", args, m[1], m[2])
		}
		if args[0] == "-j" && !js.MatchString(r.stdout) || args[0] != "-j" && !plain.MatchString(r.stdout) {
			t.Errorf("perf event_pipe %v:\n%s", args, r.stdout)
		}
	}
}

// runEmitOn runs the emit program once on one CPU, so that its
// BPF_F_CURRENT_CPU output goes to that CPU's perf ring.
func runEmitOn(t *testing.T, coll *ebpf.Collection, cpu int) {
	t.Helper()
	if err := testutil.RunOnCPU(coll.Programs["emit"], cpu, 1); err != nil {
		t.Errorf("run emit on CPU %d: %v", cpu, err)
	}
}

// bpfkitWhileEmitting runs the command line in-process and, every 50ms
// until it ends, runs the emit program once on CPU cpu(i) for the i-th
// wait: an event_pipe reader gets records only once it is reading. The
// test fails when the command is still running after about ten seconds.
func bpfkitWhileEmitting(t *testing.T, coll *ebpf.Collection, cpu func(int) int, args ...string) result {
	t.Helper()
	done := make(chan result)
	go func() {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"bpfkit"}, args...), &stdout, &stderr)
		done <- result{stdout.String(), stderr.String(), code}
	}()
	for i := 0; ; i++ {
		select {
		case r := <-done:
			return r
		case <-time.After(50 * time.Millisecond):
			if i > 200 {
				t.Fatalf("bpfkit %s got no record", strings.Join(args, " "))
			}
			runEmitOn(t, coll, cpu(i))
		}
	}
}

// TestEventPipeLikeBpftool compares bpfkit's perf event_pipe lines with
// bpftool's for the same records (timestamps aside).
func TestEventPipeLikeBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	tool := testutil.RequireTool(t, "bpftool")
	coll, maps := loadMapdataWithLibbpf(t)
	perf := filepath.Join(maps, "perf_events")
	stamp := regexp.MustCompile(`@\d+\.\d{9} `)
	for _, json := range []bool{false, true} {
		args := []string{"map", "event_pipe", "pinned", perf}
		if json {
			args = append([]string{"-j"}, args...)
		}
		// bpftool first, stopped with SIGINT once it printed a record.
		// Its output is a file, not a buffer exec copies into while the
		// loop looks at it (make race found that).
		outFile, err := os.CreateTemp(t.TempDir(), "event_pipe")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool, args...)
		cmd.Stdout = outFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		printed := func() bool {
			st, err := outFile.Stat()
			return err == nil && st.Size() > 0
		}
		for i := 0; i < 100 && !printed(); i++ {
			time.Sleep(50 * time.Millisecond)
			runEmitOn(t, coll, 0)
		}
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		outFile.Close()
		wantB, err := os.ReadFile(outFile.Name())
		if err != nil {
			t.Fatal(err)
		}
		want := string(wantB)
		// Then bpfkit, reading one record.
		r := bpfkitWhileEmitting(t, coll, func(int) int { return 0 }, append(args, "count", "1")...)
		// Compare the first record, with values that differ (counter, time)
		// masked.
		norm := func(s string) string {
			if json {
				s = regexp.MustCompile(`"timestamp":\d+`).ReplaceAllString(s, `"timestamp":T`)
				s = regexp.MustCompile(`"data":\[42,0,0,0,3,0,0,0,\d+,`).ReplaceAllString(s, `"data":[42,0,0,0,3,0,0,0,N,`)
				if i := strings.Index(s, "},{"); i >= 0 {
					s = s[:i+1] + "]\n"
				}
				return s
			}
			s = stamp.ReplaceAllString(s, "@T ")
			s = regexp.MustCompile(`00 00  [0-9a-f]{2} 00 00 00`).ReplaceAllString(s, "00 00  NN 00 00 00")
			lines := strings.SplitAfter(s, "\n")
			if len(lines) > 3 {
				lines = lines[:3]
			}
			return strings.Join(lines, "")
		}
		if norm(r.stdout) != norm(want) {
			t.Errorf("event_pipe json=%v:\n--- bpfkit\n%s--- bpftool\n%s", json, r.stdout, want)
		}
	}
}
