package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/events"
)

// event mirrors struct event in testdata/loader/common.h.
type event struct {
	PID  uint32
	Kind uint32
	Comm string
	Data string
}

// decodeEvent decodes a record of the loader test objects' struct event.
func decodeEvent(t *testing.T, b []byte) event {
	t.Helper()
	if len(b) < 56 {
		t.Fatalf("record of %d bytes, want 56", len(b))
	}
	cstr := func(b []byte) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	return event{
		PID:  binary.LittleEndian.Uint32(b[0:]),
		Kind: binary.LittleEndian.Uint32(b[4:]),
		Comm: cstr(b[8:24]),
		Data: cstr(b[24:56]),
	}
}

// collect reads records until done returns true or ten seconds pass,
// calling poke between waits to make events happen.
func collect(t *testing.T, s *Session, poke func(), done func([]event) bool) []event {
	t.Helper()
	var evs []event
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !done(evs) {
		select {
		case r := <-s.Records():
			if r.Lost == 0 {
				evs = append(evs, decodeEvent(t, r.Data))
			}
		case <-tick.C:
			poke()
		case <-deadline:
			if len(evs) > 5 {
				evs = evs[len(evs)-5:]
			}
			t.Fatalf("timed out; the last records: %+v", evs)
		}
	}
	return evs
}

// openFile opens and closes path: an openat the test programs see.
func openFile(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return
	}
	f.Close()
}

func TestRunTracepointPIDFilter(t *testing.T) {
	testutil.RequirePrivileged(t)
	// The program copies 31 bytes of the path: keep it short.
	f, err := os.CreateTemp("", "bk")
	if err != nil {
		t.Fatal(err)
	}
	marker := f.Name()
	f.Close()
	defer os.Remove(marker)
	obj := openObject(t, "tracepoint")
	pid := uint32(os.Getpid())
	s, err := StartRun(obj, RunOptions{Set: []string{fmt.Sprintf("targ_pid=%d", pid)}, KeepSelf: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := sessionIDs(s)
	if len(ids["prog"]) != 1 || len(ids["map"]) != 4 || len(ids["link"]) != 1 {
		t.Errorf("session IDs %v", ids)
	}
	if len(s.Attached) != 1 || s.Attached[0].Hook != "tracepoint syscalls/sys_enter_openat" || s.Attached[0].LinkID == 0 {
		t.Errorf("attached %+v", s.Attached)
	}
	if len(s.Sources) != 1 || s.Sources[0].Map != "openat_events" || s.Sources[0].Type != "ringbuf" {
		t.Errorf("sources %+v", s.Sources)
	}
	evs := collect(t, s, func() {
		openFile(t, marker)
		exec.Command("cat", "/etc/hostname").Run() // another process: filtered out
	}, func(evs []event) bool {
		mine := 0
		for _, e := range evs {
			if e.Data == marker {
				mine++
			}
		}
		return mine >= 3
	})
	for _, e := range evs {
		if e.PID != pid {
			t.Errorf("targ_pid=%d let through an event of pid %d (%s)", pid, e.PID, e.Comm)
		}
	}
	sum := s.Summary()
	progs, srcs := sum.Programs, sum.Sources
	if len(progs) != 1 || progs[0].Name != "trace_openat" || progs[0].ID == 0 {
		t.Errorf("summary %+v", progs)
	} else if progs[0].Stats && progs[0].RunCount == 0 {
		t.Errorf("stats on but run count 0")
	}
	if len(srcs) != 1 || srcs[0].Records < 3 {
		t.Errorf("sources summary %+v", srcs)
	}
	s.Close()
	testutil.AssertGone(t, ids)

	// Without the filter the other process's opens come through.
	s, err = StartRun(obj, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	collect(t, s, func() { exec.Command("cat", "/etc/hostname").Run() }, func(evs []event) bool {
		for _, e := range evs {
			if e.Comm == "cat" && e.PID != pid {
				return true
			}
		}
		return false
	})
}

func TestRunTracepipe(t *testing.T) {
	testutil.RequirePrivileged(t)
	tp, err := events.OpenTracePipe(true)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan events.TraceLine, 100)
	go func() {
		defer close(lines)
		for {
			l, err := tp.Next()
			if err != nil {
				return
			}
			lines <- l
		}
	}()
	obj := openObject(t, "tracepoint")
	pid := os.Getpid()
	s := startRun(t, obj, RunOptions{Set: []string{fmt.Sprintf("targ_pid=%d", pid)}, KeepSelf: true})
	want := fmt.Sprintf("bpfkit-tp openat pid=%d", pid)
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		openFile(t, "/etc/hostname")
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("trace_pipe closed")
			}
			found = l.Message == want && l.PID == pid
		case <-s.Records():
		case <-deadline:
			t.Fatalf("no %q on trace_pipe", want)
		}
	}
	// Close unblocks a reader waiting for a line.
	s.Close()
	for len(lines) > 0 {
		<-lines
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	tp.Close()
	select {
	case <-lines:
		for range lines {
		}
		t.Logf("reader stopped %v after Close", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the trace_pipe reader")
	}
}

func TestRunTpBTF(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := startRun(t, openObject(t, "tpbtf"), RunOptions{})
	if len(s.Attached) != 1 || s.Attached[0].Hook != "tp_btf sched_process_exec" {
		t.Errorf("attached %+v", s.Attached[0])
	}
	collect(t, s, func() { exec.Command("true").Run() }, func(evs []event) bool {
		for _, e := range evs {
			if e.Kind == 6 && e.Comm == "true" {
				return true
			}
		}
		return false
	})
}

// TestRunKprobe runs kprobe and kretprobe programs on a kernel with
// kprobes (the qemu guest; this host has none).
func TestRunKprobe(t *testing.T) {
	testutil.Requires(t, "kprobes", "kretprobes")
	pid := uint32(os.Getpid())
	s := startRun(t, openObject(t, "kprobe"), RunOptions{Set: []string{fmt.Sprintf("targ_pid=%d", pid)}, KeepSelf: true})
	collect(t, s, func() { openFile(t, "/etc/hostname") }, func(evs []event) bool {
		kinds := map[uint32]bool{}
		for _, e := range evs {
			kinds[e.Kind] = e.PID == pid
		}
		return kinds[2] && kinds[3]
	})
}

// TestRunWithoutKprobes: on a kernel without kprobes the error says so and
// nothing is left.
func TestRunWithoutKprobes(t *testing.T) {
	testutil.Lacks(t, "kprobes")
	obj := openObject(t, "kprobe")
	_, err := StartRun(obj, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), ErrNoKprobes.Error()) {
		t.Fatalf("kernel without kprobes: got %v", err)
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
}

// TestRunFentry runs fentry and fexit programs on a kernel with BPF
// trampolines (the qemu guest; this host refuses them).
func TestRunFentry(t *testing.T) {
	testutil.Requires(t, "trampolines")
	s := startRun(t, openObject(t, "fentry"), RunOptions{Set: []string{fmt.Sprintf("targ_pid=%d", os.Getpid())}, KeepSelf: true})
	collect(t, s, func() { openFile(t, "/etc/hostname") }, func(evs []event) bool {
		kinds := map[uint32]bool{}
		for _, e := range evs {
			kinds[e.Kind] = true
		}
		return kinds[4] && kinds[5]
	})
}

// TestRunWithoutTrampolines: on a kernel that refuses BPF trampolines the
// error says what is missing and nothing is left.
func TestRunWithoutTrampolines(t *testing.T) {
	testutil.Lacks(t, "trampolines")
	obj := openObject(t, "fentry")
	_, err := StartRun(obj, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "need BPF trampoline support") {
		t.Fatalf("kernel without trampolines: got %v", err)
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
}

// TestRunNetAndSkips attaches xdp and tcx to lo and a cgroup program to a
// test cgroup, skips the socket filter with a note, and counts packets.
func TestRunNetAndSkips(t *testing.T) {
	testutil.Requires(t, "tcx")
	cg := filepath.Join("/sys/fs/cgroup/unified", fmt.Sprintf("bpfkit-test-%d", os.Getpid()))
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err != nil {
		cg = filepath.Join("/sys/fs/cgroup", fmt.Sprintf("bpfkit-test-%d", os.Getpid()))
	}
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(cg)

	obj := openObject(t, "net")
	// Without targets the run refuses to start, and leaves nothing.
	if _, err := StartRun(obj, RunOptions{}); err == nil || !strings.Contains(err.Error(), "needs a network interface (--iface)") {
		t.Fatalf("no --iface: %v", err)
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)

	s, err := StartRun(obj, RunOptions{Attach: AttachOptions{Iface: "lo", Cgroup: cg}})
	if err != nil {
		t.Fatal(err)
	}
	hooks := map[string]string{}
	for _, a := range s.Attached {
		hooks[a.Program] = a.Hook
		if a.LinkID == 0 {
			t.Errorf("%s: no link ID", a.Program)
		}
	}
	want := map[string]string{
		"xdp_pass_all":       "xdp dev lo",
		"tc_ingress_pass":    "tcx ingress dev lo",
		"cgroup_egress_pass": "cgroup cgroup_inet_egress " + cg,
		// cgroup_inet_ingress is attach type 0, the same value as "none".
		"cgroup_ingress_pass": "cgroup cgroup_inet_ingress " + cg,
	}
	for p, h := range want {
		if hooks[p] != h {
			t.Errorf("%s attached to %q, want %q", p, hooks[p], h)
		}
	}
	// One XDP program per interface: a second run says so.
	if s2, err := StartRun(obj, RunOptions{Attach: AttachOptions{Iface: "lo", Cgroup: cg}}); err == nil {
		s2.Close()
		t.Error("a second XDP program attached to lo")
	} else if !strings.Contains(err.Error(), "attach xdp_pass_all to xdp dev lo: the interface already has an XDP program (one per interface)") {
		t.Errorf("second run: %v", err)
	}
	// Packets on lo go through xdp and tcx.
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		conn.Write([]byte("bpfkit"))
	}
	conn.Close()
	bss := s.Loaded.Collection.Maps[".bss"]
	var val []byte
	if err := bss.Lookup(uint32(0), &val); err != nil {
		t.Fatal(err)
	}
	if xdp, tc := binary.LittleEndian.Uint64(val[0:]), binary.LittleEndian.Uint64(val[8:]); xdp == 0 || tc == 0 {
		t.Errorf("xdp saw %d packets, tc %d", xdp, tc)
	}
	s.Close()
	testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)

	// The socket filter in pinned.bpf.o is skipped with a note.
	pobj := openObject(t, "pinned")
	s, err = StartRun(pobj, RunOptions{Load: LoadOptions{PinRoot: testutil.PinDir(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Skipped) != 1 || s.Skipped[0].Program != "sock_all" ||
		s.Skipped[0].Reason != "socket filters attach to a socket the program's user opens" {
		t.Errorf("skipped %+v", s.Skipped)
	}
}

func TestRunUprobe(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := startRun(t, openObject(t, "uprobe"), RunOptions{})
	if len(s.Attached) != 2 || s.Attached[0].Hook != "uprobe /lib/x86_64-linux-gnu/libc.so.6:getpid" {
		t.Fatalf("attached %+v", s.Attached)
	}
	// bash calls getpid() through libc for $$.
	exec.Command("bash", "-c", "echo $$").Run()
	var val []byte
	if err := s.Loaded.Collection.Maps[".bss"].Lookup(uint32(0), &val); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(val); n == 0 {
		t.Error("uprobe on getpid never ran")
	}
}

func TestSetVariable(t *testing.T) {
	obj := openObject(t, "tracepoint")
	for _, tc := range []struct{ kv, err string }{
		{"targ_pid=1e3", ""},
		{"targ_pid=42", ""},
		{"targ_pid=0x2a", ""},
		{"targ_pid=-1", `set targ_pid: "-1" is not a 32-bit unsigned integer (0 to 4294967295)`},
		{"targ_pid=4294967296", `set targ_pid: "4294967296" is not a 32-bit unsigned integer (0 to 4294967295)`},
		{"tag=hello", ""},
		{"tag=far too long", `set tag: "far too long" is longer than 8 bytes`},
		{"nope=1", "set nope: no such global variable (globals: tag, targ_pid, unused_event)"},
	} {
		name, value, _ := strings.Cut(tc.kv, "=")
		err := SetVariable(obj.Spec, name, value)
		if (err == nil && tc.err != "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%s: got %v, want %q", tc.kv, err, tc.err)
		}
	}
	var v uint32
	if err := obj.Spec.Variables["targ_pid"].Get(&v); err != nil || v != 42 {
		t.Errorf("targ_pid = %d, %v", v, err)
	}
}

func TestEventTypes(t *testing.T) {
	for name, want := range map[string]map[string]string{
		"tracepoint": {"openat_events": "event"},
		"kprobe":     {"kp_events": "event"},
		"tpbtf":      {"exec_events": "event"},
		"fentry":     {"fevents": "event"},
		"pinned":     {},
	} {
		obj := openObject(t, name)
		got := map[string]string{}
		d, err := EventTypes(obj, nil)
		if err != nil {
			t.Fatal(err)
		}
		for m, st := range d.Types {
			got[m] = st.TypeName()
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	obj := openObject(t, "tracepoint")
	if st, err := EventType(obj, "struct event"); err != nil || st.(*ebpfbtf.Struct).Size != 56 {
		t.Errorf("EventType: %v %v", st, err)
	}
	if _, err := EventType(obj, "nosuch"); err == nil || !strings.Contains(err.Error(), "structs: event,") {
		t.Errorf("EventType(nosuch): %v", err)
	}
}

// TestRunPerfArray reads records from a perf event array, with their CPU.
func TestRunPerfArray(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := openObject(t, "perf")
	if d, _ := EventTypes(obj, nil); d.Types["perf_openat"] == nil || d.Types["perf_openat"].TypeName() != "event" {
		t.Errorf("event type %v", d.Types)
	}
	pid := uint32(os.Getpid())
	s := startRun(t, obj, RunOptions{Set: []string{fmt.Sprintf("targ_pid=%d", pid)}, KeepSelf: true})
	if len(s.Sources) != 1 || s.Sources[0].Type != "perf_event_array" || s.Attached[0].Hook != "tracepoint syscalls/sys_enter_openat" {
		t.Fatalf("sources %+v attached %+v", s.Sources, s.Attached)
	}
	deadline := time.After(10 * time.Second)
	for {
		openFile(t, "/etc/hostname")
		select {
		case r := <-s.Records():
			if r.Lost > 0 {
				continue
			}
			if r.CPU < 0 {
				t.Errorf("perf record without a CPU: %+v", r)
			}
			e := decodeEvent(t, r.Data)
			if e.PID != pid || e.Kind != 7 {
				t.Errorf("record %+v", e)
			}
			if e.Data == "/etc/hostname" {
				return
			}
		case <-deadline:
			t.Fatal("no perf record")
		}
	}
}

// TestRunCiliumObjects runs objects not written here: cilium/ebpf's test
// objects attach what their sections allow and skip the rest; one with
// nothing to attach fails at once, naming each program and why.
func TestRunCiliumObjects(t *testing.T) {
	testutil.RequirePrivileged(t)
	td := filepath.Join(testutil.CiliumModuleDir(t), "testdata")
	for name, want := range map[string]struct{ attached, skipped int }{
		"raw_tracepoint":  {1, 0},
		"loader-clang-14": {1, 4}, // xdp on lo; socket filters skipped
		"variables":       {0, 8},
	} {
		obj, err := Open(filepath.Join(td, name+"-el.elf"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := StartRun(obj, RunOptions{Attach: AttachOptions{Iface: "lo"}, Load: LoadOptions{PinRoot: testutil.PinDir(t)}})
		if want.attached == 0 {
			if !errors.Is(err, ErrNothingAttached) || strings.Count(err.Error(), "(socket): socket filters attach to a socket") != want.skipped {
				t.Errorf("%s: %v, want ErrNothingAttached naming %d programs", name, err, want.skipped)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(s.Attached) != want.attached || len(s.Skipped) != want.skipped {
			t.Errorf("%s: attached %d, skipped %d; want %+v", name, len(s.Attached), len(s.Skipped), want)
		}
		s.Close()
	}
}

func TestResolveBinary(t *testing.T) {
	if got := resolveBinary("libc.so.6"); !strings.HasSuffix(got, "/libc.so.6") || !strings.HasPrefix(got, "/") {
		t.Errorf("libc.so.6 -> %s", got)
	}
	if got := resolveBinary("bash"); !strings.HasSuffix(got, "/bash") {
		t.Errorf("bash -> %s", got)
	}
	if got := resolveBinary("/x/y"); got != "/x/y" {
		t.Errorf("/x/y -> %s", got)
	}
}

// TestMissingAttachTargets: hooks that do not exist give ErrNoTarget with
// the hook named, and run leaves nothing loaded.
func TestMissingAttachTargets(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := openObject(t, "missing_target")
	l, err := Load(obj, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unload()
	for name, hook := range map[string]string{
		"missing_tracepoint":     "tracepoint bpfkit/no_such_event",
		"missing_raw_tracepoint": "raw_tracepoint bpfkit_no_such_tracepoint",
		"missing_symbol":         "uprobe /bin/true:bpfkit_no_such_symbol",
	} {
		a, err := AttachBySection(obj.Spec.Programs[name], l.Collection.Programs[name], AttachOptions{})
		if err == nil {
			a.Link.Close()
			t.Errorf("%s attached", name)
			continue
		}
		if !errors.Is(err, ErrNoTarget) || !strings.HasPrefix(err.Error(), "attach "+name+": no such attach point: "+hook+" (") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := StartRun(obj, RunOptions{}); !errors.Is(err, ErrNoTarget) {
		t.Errorf("run: %v", err)
	}
	l.Unload()
	testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
}

// TestSetVariableParsesAsMapUpdate: --set takes its values from
// btf.ParseValue, as `map update` does.
func TestSetVariableParsesAsMapUpdate(t *testing.T) {
	obj := openObject(t, "tracepoint")
	for _, tc := range []struct{ name, value, want string }{
		{"tag", "abcdefgh", "abcdefgh"},
		{"tag", `"ab"`, "ab\x00\x00\x00\x00\x00\x00"},
		{"tag", "123", "123\x00\x00\x00\x00\x00"},
		{"targ_pid", "0b101", "\x05\x00\x00\x00"},
		{"unused_event", "0x10", "\x10\x00\x00\x00\x00\x00\x00\x00"},
	} {
		if err := SetVariable(obj.Spec, tc.name, tc.value); err != nil {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
			continue
		}
		if got := string(obj.Spec.Variables[tc.name].Value); got != tc.want {
			t.Errorf("%s=%s: %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
	if err := SetVariable(obj.Spec, "targ_pid", `{"a":1}`); err == nil || err.Error() != `set targ_pid: "{\"a\":1}" is not a 32-bit unsigned integer (0 to 4294967295)` {
		t.Errorf("JSON for an integer: %v", err)
	}
}

// TestSetConsts: a const that is not volatile is refused, naming it and
// the fix; a volatile one no instruction reads is set with a warning; a
// signed one takes -1.
func TestSetConsts(t *testing.T) {
	obj := openObject(t, "consts")
	err := SetVariable(obj.Spec.Copy(), "folded_limit", "7")
	if err == nil || !strings.Contains(err.Error(), "set folded_limit: folded_limit is const but not volatile") || !strings.Contains(err.Error(), "`const volatile`") {
		t.Errorf("folded_limit: %v", err)
	}
	if w := unreadVariable(obj, "unread_knob"); w != "set unread_knob: no instruction of the object reads unread_knob, so its value changes nothing" {
		t.Errorf("unread_knob: %q", w)
	}
	if w := unreadVariable(obj, "signed_knob"); w != "" {
		t.Errorf("signed_knob is read, yet: %q", w)
	}
	spec := obj.Spec.Copy()
	if err := SetVariable(spec, "signed_knob", "-1"); err != nil {
		t.Fatal(err)
	}
	var v int32
	if err := spec.Variables["signed_knob"].Get(&v); err != nil || v != -1 {
		t.Errorf("signed_knob = %d, %v", v, err)
	}

	testutil.RequirePrivileged(t)
	s := startRun(t, obj, RunOptions{Set: []string{"unread_knob=3", "signed_knob=-1"}})
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "unread_knob") {
		t.Errorf("warnings %q", s.Warnings)
	}
	if _, err := StartRun(obj, RunOptions{Set: []string{"folded_limit=1"}}); err == nil {
		t.Error("run --set folded_limit worked")
	}
}

// TestEventTypesDWARF: the learner's programs keep their record struct on
// the stack or behind bpf_ringbuf_reserve's pointer, out of BTF; it is
// found in DWARF by the output call's size and the calling function's
// locals. --event-type names DWARF types and fixed-size integers; without
// DWARF the records are hex, and the note says why and what to do.
func TestEventTypesDWARF(t *testing.T) {
	for obj, m := range map[string]string{"learner/opensnoop": "events", "learner/bootstrap": "rb", "learner/uretprobe": "events"} {
		o, err := Open(testutil.Object(t, obj))
		if err != nil {
			t.Fatal(err)
		}
		d, err := EventTypes(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := d.Types[m].(*ebpfbtf.Struct); !ok || st.Name != "event" || d.From[m] != "DWARF" {
			t.Errorf("%s: %v from %q (hex: %q)", obj, d.Types[m], d.From[m], d.Hex[m])
		}
	}
	o, err := Open(testutil.Object(t, "learner/opensnoop"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"u32": "u32", "__s64": "__s64", "uint16_t": "__u16", "struct args_t": "args_t", "event": "event"} {
		typ, err := EventType(o, name)
		if err != nil || typ.TypeName() != want {
			t.Errorf("--event-type %s: %v %v", name, typ, err)
		}
	}
	if _, err := EventType(o, "nosuch"); err == nil || !strings.Contains(err.Error(), "not in the object's BTF or DWARF") || !strings.Contains(err.Error(), "args_t, event") {
		t.Errorf("--event-type nosuch: %v", err)
	}
	if d, err := EventTypes(o, []string{"events=u64"}); err != nil || d.From["events"] != "--event-type" || d.Types["events"].TypeName() != "u64" {
		t.Errorf("events=u64: %+v %v", d, err)
	}
	if _, err := EventTypes(o, []string{"start=u64"}); err == nil || !strings.Contains(err.Error(), "no ring buffer or perf event array start") {
		t.Errorf("start=u64: %v", err)
	}

	// Without debug sections, as libbpf-tools ship their objects.
	strip := testutil.RequireTool(t, "llvm-strip")
	bare := filepath.Join(t.TempDir(), "opensnoop.bpf.o")
	if out, err := exec.Command(strip, "-g", "-o", bare, testutil.Object(t, "learner/opensnoop")).CombinedOutput(); err != nil {
		t.Fatalf("llvm-strip: %v: %s", err, out)
	}
	if o, err = Open(bare); err != nil {
		t.Fatal(err)
	}
	d, err := EventTypes(o, nil)
	want := "the object's BTF has no struct of 296 bytes and its DWARF cannot help: no DWARF debug information (built without -g, or stripped); name the type with --event-type events=TYPE, or rebuild the object with -g"
	if err != nil || d.Types["events"] != nil || d.Hex["events"] != want {
		t.Errorf("stripped: %+v %v\nwant hex note %q", d, err, want)
	}
}
