package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// The tests of this file compare bpfkit with upstream bpftool v7.8.0
// (testutil.Bpftool78), and with Debian's v7.1.0 where the two agree.

// metadataProgram loads testdata/metadata.bpf.o and returns its program
// with its id; everything goes when the test ends.
func metadataProgram(t *testing.T) (*ebpf.Program, uint32) {
	t.Helper()
	coll := testutil.LoadCollection(t, testutil.Object(t, "metadata"))
	p := coll.Programs["metadata_prog"]
	if p == nil {
		t.Fatal("metadata.bpf.o has no metadata_prog")
	}
	return p, mustID(t, objects.Programs, p)
}

// metadataLines is the part of a plain `prog show` from its "metadata:"
// line on.
func metadataLines(t *testing.T, what, out string) string {
	t.Helper()
	i := strings.Index(out, "\tmetadata:\n")
	if i < 0 {
		t.Fatalf("%s has no metadata:\n%s", what, out)
	}
	return out[i:]
}

// TestProgMetadataMatchesBpftool: the bpf_metadata_* globals of a program's
// .rodata (a string, an int and a struct) as both bpftools print them:
// `metadata:` lines in plain text, "metadata" in JSON, byte for byte.
func TestProgMetadataMatchesBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	_, id := metadataProgram(t)
	args := []string{"prog", "show", "id", itoa(id)}

	got := mustBpfkit(t, args...)
	const want = "\tmetadata:\n\t\towner = \"bpfkit tests\"\n\t\trevision = -42\n" +
		"\t\tbuild = {\"major\":1,\"minor\":2,\"tag\":\"rc1\",\"flags\":[3,4]}\n"
	for tool, out := range map[string][]byte{
		"bpftool v7.8.0": testutil.Bpftool78Output(t, args...),
		"bpftool v7.1.0": testutil.BpftoolOutput(t, args...),
	} {
		if m := metadataLines(t, tool, string(out)); m != want {
			t.Errorf("%s prints metadata as\n%s, not as this test expects:\n%s", tool, m, want)
		}
	}
	if m := metadataLines(t, "bpfkit", got); m != want {
		t.Errorf("bpfkit's metadata:\n%s--- want (both bpftools)\n%s", m, want)
	}

	// JSON: every member, with its type, under "metadata", as 7.8 prints
	// the whole object (compact and -p).
	for _, flag := range []string{"-j", "-p"} {
		jargs := append([]string{flag}, args...)
		if got, want := mustBpfkit(t, jargs...), withoutPIDs(string(testutil.Bpftool78Output(t, jargs...))); got != want {
			t.Errorf("%s prog show: differs from bpftool v7.8.0 at %s", flag, testutil.FirstDiff([]byte(got), []byte(want)))
		}
	}
	meta := testutil.DecodeJSON[map[string]any](t, []byte(mustBpfkit(t, append([]string{"-j"}, args...)...)))["metadata"]
	want71 := testutil.BpftoolJSON[map[string]any](t, append([]string{"-j"}, args...)...)["metadata"]
	if fmt.Sprint(meta) != fmt.Sprint(want71) || want71 == nil {
		t.Errorf("metadata: bpfkit %v, bpftool v7.1.0 %v", meta, want71)
	}
}

// TestLoadedAtEveryCall: loaded_at is bpftool's on every call, plain and
// JSON: the conversion from boot time keeps the nanoseconds, so no call
// is a second off (before, 7 and 14 of 20 calls were). Four programs
// loaded over a second, five rounds: 20 calls against each bpftool.
func TestLoadedAtEveryCall(t *testing.T) {
	testutil.RequirePrivileged(t)
	var ids []uint32
	for i := range 4 {
		_, id := loadProg(t, &ebpf.ProgramSpec{Name: fmt.Sprintf("i15p_at%d", i), Type: ebpf.SocketFilter,
			License: "MIT", Instructions: testutil.ReturnZero()})
		ids = append(ids, id)
		time.Sleep(250 * time.Millisecond) // spread the load times over a second
	}
	plainAt := regexp.MustCompile(`loaded_at (\S+)`)
	tableAt := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}`)
	for call := range 5 {
		for _, id := range ids {
			args := []string{"-j", "prog", "show", "id", itoa(id)}
			got := testutil.DecodeJSON[map[string]any](t, []byte(mustBpfkit(t, args...)))["loaded_at"]
			for tool, out := range map[string][]byte{
				"v7.8.0": testutil.Bpftool78Output(t, args...),
				"v7.1.0": testutil.BpftoolOutput(t, args...),
			} {
				if want := testutil.DecodeJSON[map[string]any](t, out)["loaded_at"]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("call %d, program %d: loaded_at %v, bpftool %s %v", call, id, got, tool, want)
				}
			}
			m := plainAt.FindStringSubmatch(string(testutil.BpftoolOutput(t, args[1:]...)))
			if m == nil {
				t.Fatalf("bpftool prints no loaded_at for program %d", id)
			}
			if at := tableAt.FindString(mustBpfkit(t, args[1:]...)); at != m[1] {
				t.Errorf("call %d, program %d: plain loaded_at %q, bpftool %q", call, id, at, m[1])
			}
		}
	}
}

// sameAs78 runs args with bpfkit and bpftool v7.8.0, -j and -p, and
// checks that the outputs are the same bytes.
func sameAs78(t *testing.T, args ...string) string {
	t.Helper()
	var compact string
	for _, flag := range []string{"-j", "-p"} {
		a := append([]string{flag}, args...)
		got := mustBpfkit(t, a...)
		stdout, code := testutil.Bpftool78(t, a...)
		// v7.8.0's `link show LINK` prints the link, then exits with
		// do_show's uninitialized err (255 here); bpfkit exits 0.
		if code != 0 && (args[0] != "link" || len(args) != 4) {
			t.Errorf("bpftool v7.8.0 %s: exit %d", strings.Join(a, " "), code)
		}
		if want := withoutPIDs(string(stdout)); got != want {
			t.Errorf("%s: differs from bpftool v7.8.0 at %s", strings.Join(a, " "), testutil.FirstDiff([]byte(got), []byte(want)))
		}
		if flag == "-j" {
			compact = got
		}
	}
	return compact
}

// bpftoolPIDs is the "pids" member of bpftool's JSON, compact or -p, with
// the separator before it (it is never an object's first member).
var bpftoolPIDs = regexp.MustCompile(`,\s*"pids": ?\[(?:\s*\{\s*"pid": ?\d+,\s*"comm": ?"(?:[^"\\]|\\.)*"\s*\},?)*\s*\]`)

// withoutPIDs is bpftool's JSON without "pids". These tests run bpfkit in
// the test process, which holds the objects they show and which bpfkit
// leaves out as bpftool leaves itself out; bpftool v7.8.0 lists the test
// process where its pid iterator loads (Linux 6.1, not 6.18), and on 6.1
// itself too for BTF objects. Owners are compared with bpftool by TestPIDs,
// with bpfkit as a process of its own.
func withoutPIDs(out string) string { return bpftoolPIDs.ReplaceAllString(out, "") }

// shape says whether out, a JSON document, is an object or an array.
func shape(out string) string {
	switch {
	case strings.HasPrefix(out, "{"):
		return "object"
	case strings.HasPrefix(out, "["):
		return "array"
	}
	return "neither: " + out
}

// TestOneMatchShape: with every selector, one match prints one object and
// several print an array (bpftool's nb_fds > 1), byte for byte as bpftool
// v7.8.0 prints them with -j and -p.
func TestOneMatchShape(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := testutil.PinDir(t)
	prog, id := metadataProgram(t)
	if err := prog.Pin(filepath.Join(dir, "prog")); err != nil {
		t.Fatal(err)
	}
	info := testutil.DecodeJSON[map[string]any](t, []byte(mustBpfkit(t, "-j", "prog", "show", "id", itoa(id))))
	tag := fmt.Sprint(info["tag"])
	// A map of a name no one else uses (cilium/ebpf names every
	// collection's .rodata ".rodata").
	const mapName = "i15p_shape_map"
	mapSpec := &ebpf.MapSpec{Name: mapName, Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	m, mapID := newMap(t, mapSpec)
	if err := m.Pin(filepath.Join(dir, "map")); err != nil {
		t.Fatal(err)
	}
	raw, _ := loadProg(t, &ebpf.ProgramSpec{Name: "i15p_rawtp", Type: ebpf.RawTracepoint, License: "GPL", Instructions: testutil.ReturnZero()})
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sched_switch", Program: raw})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Pin(filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	linkID := mustID(t, objects.Links, l)

	one := [][]string{
		{"prog", "show", "id", itoa(id)},
		{"prog", "show", "name", "metadata_prog"},
		{"prog", "show", "tag", tag},
		{"prog", "show", "pinned", filepath.Join(dir, "prog")},
		{"map", "show", "id", itoa(mapID)},
		{"map", "show", "name", mapName},
		{"map", "show", "pinned", filepath.Join(dir, "map")},
		{"link", "show", "id", itoa(linkID)},
		{"link", "show", "pinned", filepath.Join(dir, "link")},
	}
	for _, args := range one {
		if out := sameAs78(t, args...); shape(out) != "object" {
			t.Errorf("%v, one match: %s", args, shape(out))
		}
	}

	// A second copy: the same name and tag, and a second map of its name.
	_, id2 := metadataProgram(t)
	newMap(t, mapSpec)
	for _, args := range [][]string{
		{"prog", "show", "name", "metadata_prog"},
		{"prog", "show", "tag", tag},
		{"map", "show", "name", mapName},
	} {
		out := sameAs78(t, args...)
		if shape(out) != "array" {
			t.Errorf("%v, two matches: %s", args, shape(out))
			continue
		}
		if n := len(testutil.DecodeJSON[[]any](t, []byte(out))); n != 2 {
			t.Errorf("%v: %d objects, want 2 (programs %d and %d)", args, n, id, id2)
		}
	}
}

// TestProgShowNewerFields: `-j prog show` has v7.8.0's fields in its
// order, byte for byte; v7.1.0 has the same but for the fields the docs
// name as newer (orphaned).
func TestProgShowNewerFields(t *testing.T) {
	testutil.RequirePrivileged(t)
	_, id := metadataProgram(t)
	args := []string{"prog", "show", "id", itoa(id)}
	got := sameAs78(t, args...)
	order := fieldOrder(t, []byte(got))
	want71 := fieldOrder(t, testutil.BpftoolOutput(t, append([]string{"-j"}, args...)...))
	var newer []string
	for _, f := range order {
		if !strings.Contains(" "+strings.Join(want71, " ")+" ", " "+f+" ") {
			newer = append(newer, f)
		}
	}
	if strings.Join(newer, " ") != "orphaned" {
		t.Errorf("fields v7.1.0 lacks: %v, docs/prog.md names orphaned", newer)
	}
	if v := testutil.DecodeJSON[map[string]any](t, []byte(got))["orphaned"]; v != false {
		t.Errorf("orphaned of a loaded program: %v", v)
	}
}

// TestExitCodesMatchBpftool: failing verbs exit with bpftool v7.8.0's
// status (docs/prog.md lists them).
func TestExitCodesMatchBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := testutil.PinDir(t)
	h, _ := newMap(t, &ebpf.MapSpec{Name: "i15p_hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	s, _ := newMap(t, &ebpf.MapSpec{Name: "i15p_stack", Type: ebpf.Stack, ValueSize: 4, MaxEntries: 4})
	full, _ := newMap(t, &ebpf.MapSpec{Name: "i15p_full", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	hp, sp, fp := filepath.Join(dir, "h"), filepath.Join(dir, "s"), filepath.Join(dir, "full")
	if err := h.Pin(hp); err != nil {
		t.Fatal(err)
	}
	if err := full.Pin(fp); err != nil {
		t.Fatal(err)
	}
	if err := full.Put(uint32(1), uint32(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Pin(sp); err != nil {
		t.Fatal(err)
	}
	if err := h.Put(uint32(1), uint32(1)); err != nil {
		t.Fatal(err)
	}
	const none = "4000000000" // an id no object has
	for _, c := range []struct {
		code int
		args []string
	}{
		{254, []string{"map", "lookup", "pinned", hp, "key", "2", "0", "0", "0"}},
		{254, []string{"-j", "map", "lookup", "pinned", hp, "key", "2", "0", "0", "0"}},
		{254, []string{"map", "delete", "pinned", hp, "key", "2", "0", "0", "0"}},
		{254, []string{"map", "getnext", "pinned", hp, "key", "1", "0", "0", "0"}},
		{254, []string{"map", "pop", "pinned", sp}},
		{254, []string{"map", "peek", "pinned", sp}},
		{239, []string{"map", "update", "pinned", hp, "key", "1", "0", "0", "0", "value", "1", "0", "0", "0", "noexist"}},
		{249, []string{"map", "update", "pinned", fp, "key", "2", "0", "0", "0", "value", "1", "0", "0", "0"}}, // E2BIG
		{254, []string{"link", "show", "id", none}},
		{254, []string{"link", "pin", "id", none, filepath.Join(dir, "l")}},
		{1, []string{"link", "detach", "id", none}},
		{1, []string{"link", "detach"}},
		{255, []string{"map", "pin", "pinned", hp, sp}},
		{255, []string{"prog", "show", "id", none}},
		{255, []string{"map", "show", "id", none}},
		{255, []string{"prog", "show", "name", "i15p_nosuch"}},
		{255, []string{"prog", "pin", "id", none, filepath.Join(dir, "p")}},
		{255, []string{"prog", "dump", "xlated", "id", none}},
		{255, []string{"map", "dump", "id", none}},
		{255, []string{"map", "lookup", "pinned", hp, "key", "1", "0", "0"}},
		{255, []string{"map", "frobnicate"}},
	} {
		b78, code78 := testutil.Bpftool78(t, c.args...)
		if code78 != c.code {
			t.Errorf("%v: bpftool v7.8.0 exits %d, the test expects %d (%s)", c.args, code78, c.code, b78)
		}
		if r := bpfkit(t, c.args...); r.code != code78 {
			t.Errorf("%v: bpfkit exits %d (%s%s), bpftool v7.8.0 %d", c.args, r.code, r.stdout, r.stderr, code78)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "l")); err == nil {
		t.Error("a failed link pin left a pin")
	}
}

// tracelog runs the tool at path with args until it has printed want,
// then interrupts it as Ctrl-C does and returns all it printed.
func tracelog(t *testing.T, want, path string, args ...string) string {
	t.Helper()
	cmd := exec.Command(path, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	chunks := make(chan []byte)
	go func() {
		defer close(chunks)
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			if n > 0 {
				chunks <- bytes.Clone(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	var out []byte
	timeout := time.After(15 * time.Second)
	for !bytes.Contains(out, []byte(want)) {
		select {
		case c, ok := <-chunks:
			if !ok {
				t.Fatalf("%s %v ended without printing %q: %s", path, args, want, out)
			}
			out = append(out, c...)
		case <-timeout:
			t.Fatalf("%s %v printed no %q in 15 s: %s", path, args, want, out)
		}
	}
	// bpftool's SIGINT handler writes to stdout with stdio, which is not
	// safe while the main loop is inside stdio: a signal that arrives as
	// it flushes a full buffer (what made the line we wait for visible)
	// prints that buffer twice. Let it go back to reading trace_pipe.
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	for c := range chunks {
		out = append(out, c...)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("%s %v after Ctrl-C: %v %s", path, args, err, stderr.String())
	}
	return string(out)
}

// TestTracelogJSONLikeBpftool: `-j prog tracelog` is bpftool v7.8.0's
// array of trace_pipe lines, closed when Ctrl-C ends it; --fields is
// bpfkit's object per line. The two tools run one after the other: each
// trace_pipe line goes to one reader.
func TestTracelogJSONLikeBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	pid := startOpener(t)
	run, _, _ := startBpfkit(t, "run", "--set", fmt.Sprintf("targ_pid=%d", pid), testutil.Object(t, "loader/tracepoint"))
	defer func() { run.Process.Signal(os.Interrupt); run.Wait() }()
	want := fmt.Sprintf("bpfkit-tp openat pid=%d", pid)

	// Every string is one line, the layout around them bpftool's.
	str := regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	layout := func(out string) string { return str.ReplaceAllString(out, `"L"`) }
	oneOrMore := regexp.MustCompile(`^\["L"(,"L")*\]\n$`)
	b78 := tracelog(t, want, testutil.Bpftool78Path(t), "-j", "prog", "tracelog")
	ours := tracelog(t, want, binPath, "-j", "prog", "tracelog")
	for tool, out := range map[string]string{"bpftool v7.8.0": b78, "bpfkit": ours} {
		if !oneOrMore.MatchString(layout(out)) {
			t.Errorf("%s -j prog tracelog is not an array of lines: %q", tool, out)
		}
		var lines []string
		if err := json.Unmarshal([]byte(out), &lines); err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		for _, l := range lines {
			if !strings.HasSuffix(l, "\n") || !strings.Contains(l, "bpf_trace_printk: ") {
				t.Errorf("%s line %q is not a trace_pipe line with its newline", tool, l)
			}
		}
	}

	fields := tracelog(t, want, binPath, "-j", "prog", "tracelog", "--fields")
	first := strings.SplitN(strings.TrimSpace(fields[strings.Index(fields, "{"):]), "\n", 2)[0]
	var v struct {
		PID     int    `json:"pid"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(first), &v); err != nil || v.PID != pid || v.Message != want {
		t.Errorf("--fields line %q: %+v %v", first, v, err)
	}
}

// TestPrettyLikeBpftool78: -j and -p dumps are v7.8.0's bytes, json_writer's
// layout for single objects, arrays of objects and arrays of numbers.
func TestPrettyLikeBpftool78(t *testing.T) {
	testutil.RequirePrivileged(t)
	_, id := metadataProgram(t)
	info := testutil.DecodeJSON[map[string]any](t, []byte(mustBpfkit(t, "-j", "prog", "show", "id", itoa(id))))
	mapID, btfID := fmt.Sprint(info["map_ids"].([]any)[0]), fmt.Sprint(info["btf_id"])
	for _, args := range [][]string{
		{"prog", "dump", "xlated", "id", itoa(id)},
		{"prog", "dump", "xlated", "id", itoa(id), "opcodes", "linum"},
		{"map", "show", "id", mapID},
		{"map", "dump", "id", mapID},
		{"map", "lookup", "id", mapID, "key", "0", "0", "0", "0"},
		{"btf", "show", "id", btfID},
		{"btf", "dump", "id", btfID},
	} {
		sameAs78(t, args...)
	}
}
