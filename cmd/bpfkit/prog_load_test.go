package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/pin"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/loader"
)

// bpftoolShowPinned returns the JSON object bpftool prints for a pin.
func bpftoolShowPinned(t *testing.T, noun, path string) map[string]any {
	t.Helper()
	return testutil.BpftoolJSON[map[string]any](t, noun, "show", "pinned", path)
}

// pinnedIDs returns the kernel IDs of the objects pinned at or under the
// paths, by kind, for testutil.AssertGone.
func pinnedIDs(t *testing.T, paths ...string) map[string][]uint32 {
	t.Helper()
	ids := map[string][]uint32{}
	for _, root := range paths {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			obj, err := pin.Load(p, nil)
			if err != nil {
				t.Fatalf("load pin %s: %v", p, err)
			}
			defer obj.Close()
			switch o := obj.(type) {
			case *ebpf.Program:
				id, _ := objects.Programs.ID(o)
				ids["prog"] = append(ids["prog"], id)
			case *ebpf.Map:
				id, _ := objects.Maps.ID(o)
				ids["map"] = append(ids["map"], id)
			case link.Link:
				id, _ := objects.Links.ID(o)
				ids["link"] = append(ids["link"], id)
				if info, err := o.Info(); err == nil {
					ids["prog"] = append(ids["prog"], uint32(info.Program))
				}
			}
			return nil
		})
	}
	return ids
}

// TestProgLoadAllAutoattach: `prog loadall OBJ DIR pinmaps DIR autoattach`
// pins links for attachable programs and programs for the others; bpftool
// sees them; `link detach`, `link pin` and `prog pin` work on them; removing
// the pins unloads everything.
func TestProgLoadAllAutoattach(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := testutil.PinDir(t)
	progs, maps := filepath.Join(dir, "progs"), filepath.Join(dir, "maps")

	// pinned.bpf.o's LIBBPF_PIN_BY_NAME map, bpfkit_shared, goes to the
	// default pin root /sys/fs/bpf; only this test pins it there.
	shared := "/sys/fs/bpf/bpfkit_shared"
	if _, err := os.Stat(shared); err == nil {
		t.Skipf("%s exists (another run?)", shared)
	}
	defer os.Remove(shared)

	r := bpfkit(t, "-j", "prog", "loadall", testutil.Object(t, "loader/pinned"), progs, "pinmaps", maps, "autoattach")
	if r.code != 0 || r.stdout != "null\n" {
		t.Fatalf("loadall: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// Links for the raw tracepoint and the iterator, a program for the
	// socket filter.
	l := bpftoolShowPinned(t, "link", filepath.Join(progs, "raw_sys_enter"))
	if l["type"] != "raw_tracepoint" || l["tp_name"] != "sys_enter" {
		t.Errorf("raw_sys_enter link: %v", l)
	}
	it := bpftoolShowPinned(t, "link", filepath.Join(progs, "iter_maps"))
	if it["type"] != "iter" {
		t.Errorf("iter_maps link: %v", it)
	}
	p := bpftoolShowPinned(t, "prog", filepath.Join(progs, "sock_all"))
	if p["type"] != "socket_filter" || p["name"] != "sock_all" {
		t.Errorf("sock_all prog: %v", p)
	}
	for _, m := range []string{"bpfkit_shared", "pinned_bss"} {
		bpftoolShowPinned(t, "map", filepath.Join(maps, m))
	}
	if _, err := os.Stat(shared); err != nil {
		t.Errorf("LIBBPF_PIN_BY_NAME map not pinned at %s: %v", shared, err)
	}
	// The pinned iterator runs when read.
	data, err := os.ReadFile(filepath.Join(progs, "iter_maps"))
	if err != nil || !strings.HasPrefix(string(data), "map\n") {
		t.Errorf("reading the iterator: %q %v", data, err)
	}

	// link pin / prog pin add pins; existing paths are refused.
	linkID := fmt.Sprint(l["id"])
	mustBpfkit(t, "link", "pin", "id", linkID, filepath.Join(dir, "again"))
	if got := bpftoolShowPinned(t, "link", filepath.Join(dir, "again")); fmt.Sprint(got["id"]) != linkID {
		t.Errorf("link pin: %v", got)
	}
	r = bpfkit(t, "link", "pin", "id", linkID, filepath.Join(dir, "again"))
	if r.code != 1 || r.stderr != "Error: link pin: pin path "+filepath.Join(dir, "again")+": already exists (bpfkit never overwrites a pin)\n" {
		t.Errorf("link pin over a pin: %d %q", r.code, r.stderr)
	}
	mustBpfkit(t, "prog", "pin", "pinned", filepath.Join(progs, "sock_all"), filepath.Join(dir, "sock2"))
	r = bpfkit(t, "prog", "pin", "pinned", filepath.Join(progs, "sock_all"), filepath.Join(t.TempDir(), "x"))
	if r.code != 1 || !strings.Contains(r.stderr, "not on a BPF filesystem (bpffs)") {
		t.Errorf("prog pin outside bpffs: %d %q", r.code, r.stderr)
	}

	// Raw tracepoint links cannot be detached; the error says so.
	r = bpfkit(t, "link", "detach", "pinned", filepath.Join(dir, "again"))
	if r.code != 1 || r.stderr != "Error: link detach: the kernel cannot detach raw_tracepoint links: not supported\n" {
		t.Errorf("detach raw_tracepoint: %d %q", r.code, r.stderr)
	}

	ids := pinnedIDs(t, progs, maps, shared)
	if len(ids["prog"]) != 3 || len(ids["map"]) != 4 || len(ids["link"]) != 2 {
		t.Errorf("pinned IDs %v", ids)
	}
	os.RemoveAll(progs)
	os.RemoveAll(maps)
	os.Remove(filepath.Join(dir, "again"))
	os.Remove(filepath.Join(dir, "sock2"))
	os.Remove(shared)
	testutil.AssertGone(t, ids)
}

// TestProgLoadFirst: `prog load OBJ PATH` pins the first program only;
// `type` and `map name` work; failures are one clear line and leave
// nothing.
func TestProgLoadFirst(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := testutil.PinDir(t)
	path := filepath.Join(dir, "tp")
	tmp := t.TempDir()
	r := bpfkit(t, "prog", "load", testutil.Object(t, "loader/tracepoint"), path, "pinmaps", filepath.Join(dir, "m"))
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("load: %d %q %q", r.code, r.stdout, r.stderr)
	}
	p := bpftoolShowPinned(t, "prog", path)
	if p["name"] != "trace_openat" || p["type"] != "tracepoint" {
		t.Errorf("pinned: %v", p)
	}
	// A second load reuses the first one's calls map by name.
	calls := filepath.Join(dir, "m", "openat_calls")
	mustBpfkit(t, "prog", "load", testutil.Object(t, "loader/tracepoint"), filepath.Join(dir, "tp2"), "map", "name", "openat_calls", "pinned", calls)
	m := bpftoolShowPinned(t, "map", calls)
	p2 := bpftoolShowPinned(t, "prog", filepath.Join(dir, "tp2"))
	found := false
	for _, id := range p2["map_ids"].([]any) {
		found = found || fmt.Sprint(id) == fmt.Sprint(m["id"])
	}
	if !found {
		t.Errorf("second program's maps %v lack the reused map %v", p2["map_ids"], m["id"])
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prog", "load", testutil.Object(t, "loader/tracepoint"), path}, "Error: prog load: pin path " + path + ": already exists (bpfkit never overwrites a pin)\n"},
		{[]string{"prog", "load", testutil.Object(t, "loader/tracepoint"), filepath.Join(tmp, "x")}, "Error: prog load: pin path " + filepath.Join(tmp, "x") + ": not on a BPF filesystem (bpffs)\n"},
		{[]string{"prog", "load", testutil.Object(t, "loader/tracepoint"), filepath.Join(dir, "x"), "type", "bogus"}, "Error: prog load: unknown program type \"bogus\""},
		{[]string{"prog", "load", testutil.Object(t, "loader/tracepoint"), filepath.Join(dir, "x"), "frobnicate"}, "Error: prog load: expected no more arguments, 'type', 'map', 'pinmaps', 'autoattach' or 'kernel_btf', got: 'frobnicate'\n"},
		{[]string{"prog", "load", testutil.Object(t, "loader/core_fail"), filepath.Join(dir, "x")}, "Error: prog load: program core_missing_field (section tracepoint/syscalls/sys_enter_openat): CO-RE relocation not satisfied by the kernel's BTF: byte_off of struct task_struct.bpfkit_no_such_field\n"},
		{[]string{"prog", "load", testutil.Object(t, "loader/bad_verifier"), filepath.Join(dir, "x")}, "Verifier log of bad_no_null_check"},
		{[]string{"-j", "prog", "load", testutil.Object(t, "loader/bad_verifier"), filepath.Join(dir, "x")}, ""},
	} {
		r := bpfkit(t, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// An unknown section loads with `type`.
	r = bpfkit(t, "prog", "load", testutil.Object(t, "loader/unknown_section"), filepath.Join(dir, "u"))
	if r.code != 1 || !strings.HasSuffix(r.stderr, "object file contains no BPF program in a section of known type (sections: bpfkit_custom/filter); give one with type TYPE\n") {
		t.Errorf("unknown section: %d %q", r.code, r.stderr)
	}
	mustBpfkit(t, "prog", "load", testutil.Object(t, "loader/unknown_section"), filepath.Join(dir, "u"), "type", "socket")
	if p := bpftoolShowPinned(t, "prog", filepath.Join(dir, "u")); p["type"] != "socket_filter" {
		t.Errorf("type socket: %v", p)
	}
	// A truncated object.
	data, _ := os.ReadFile(testutil.Object(t, "loader/tracepoint"))
	trunc := filepath.Join(t.TempDir(), "trunc.o")
	os.WriteFile(trunc, data[:len(data)/3], 0o644)
	r = bpfkit(t, "prog", "load", trunc, filepath.Join(dir, "x"))
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: prog load: "+trunc+": not a valid BPF object file: ") {
		t.Errorf("truncated: %d %q", r.code, r.stderr)
	}
	// -j errors are JSON on stdout.
	r = bpfkit(t, "-j", "prog", "load", testutil.Object(t, "loader/bad_verifier"), filepath.Join(dir, "x"))
	var e struct{ Error string }
	if json.Unmarshal([]byte(r.stdout), &e) != nil || !strings.Contains(e.Error, "rejected by the verifier") || r.stderr != "" {
		t.Errorf("-j verifier error: %q %q", r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a failed load left a pin")
	}
	ids := pinnedIDs(t, dir)
	os.RemoveAll(dir)
	testutil.AssertGone(t, ids)
	testutil.WaitCountsAtMost(t, testutil.Counts{}, "bad_no_null_check", "bad_counts", "core_missing_fie", "core_out")
}

// TestTracelog: `prog tracelog -j` prints bpf_printk lines as JSON objects
// while another bpfkit runs the tracepoint program.
func TestTracelog(t *testing.T) {
	testutil.RequirePrivileged(t)
	pid := startOpener(t)
	tl, lines, stderr := startBpfkit(t, "-j", "prog", "tracelog")
	run, _, _ := startBpfkit(t, "run", "--set", fmt.Sprintf("targ_pid=%d", pid), testutil.Object(t, "loader/tracepoint"))
	want := fmt.Sprintf("bpfkit-tp openat pid=%d", pid)
	waitLine(t, lines, func(l string) bool {
		var v struct {
			PID     int    `json:"pid"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		return v.Message == want && v.PID == pid
	})
	run.Process.Signal(os.Interrupt)
	run.Wait()
	tl.Process.Signal(os.Interrupt)
	if err := tl.Wait(); err != nil {
		t.Errorf("tracelog exit: %v %s", err, stderr)
	}
}

// TestLinkDetach: `link detach` unhooks an XDP link that stays pinned.
func TestLinkDetach(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.Requires(t, "tcx")
	dir := testutil.PinDir(t)
	obj, err := loader.Open(testutil.Object(t, "loader/net"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "net")
	pins, err := loader.LoadAndPin(obj, loader.LoadOptions{}, loader.PinRequest{
		Path: path, All: true, AutoAttach: true, Attach: loader.AttachOptions{Iface: "lo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	xdp := filepath.Join(path, "xdp_pass_all")
	ifindex := func() uint32 {
		l, err := link.LoadPinnedLink(xdp, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		info, err := l.Info()
		if err != nil || info.XDP() == nil {
			t.Fatalf("link info: %v", err)
		}
		return info.XDP().Ifindex
	}
	if l := bpftoolShowPinned(t, "link", xdp); l["type"] != "xdp" || ifindex() != 1 {
		t.Fatalf("xdp link: %v, ifindex %d", l, ifindex())
	}
	mustBpfkit(t, "link", "detach", "pinned", xdp)
	if n := ifindex(); n != 0 {
		t.Errorf("after detach the link is still on ifindex %d", n)
	}
	if len(pins) != 4 {
		t.Errorf("pins %+v", pins)
	}
	ids := pinnedIDs(t, path)
	os.RemoveAll(path)
	testutil.AssertGone(t, ids)
}

// TestProgLoadDebug: -d prints every program's verifier log.
func TestProgLoadDebug(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := testutil.PinDir(t)
	r := bpfkit(t, "-d", "prog", "load", testutil.Object(t, "loader/tracepoint"), filepath.Join(dir, "p"))
	if r.code != 0 || !strings.HasPrefix(r.stderr, "Verifier log of trace_openat:\n") || !strings.Contains(r.stderr, "processed ") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr[:min(len(r.stderr), 300)])
	}
	os.Remove(filepath.Join(dir, "p"))
}
