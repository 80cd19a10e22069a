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

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// detachLater detaches prog from the cgroup at path as typ when the test
// ends, whatever the test left attached.
func detachLater(t *testing.T, path string, typ ebpf.AttachType, prog *ebpf.Program) {
	t.Cleanup(func() {
		if f, err := os.Open(path); err == nil {
			link.RawDetachProgram(link.RawDetachProgramOptions{Target: int(f.Fd()), Program: prog, Attach: typ})
			f.Close()
		}
	})
}

// TestCgroupShow: a cgroup the test makes, with a legacy attachment made
// by bpfkit, one made by bpftool and a link on a unix socket hook (on
// inet4_connect where the kernel has no unix hooks, before 6.7), shows
// them in `cgroup show`, `show effective` (in a child cgroup) and `tree`
// with bpftool 7.8's JSON byte for byte, and 7.1's for the hooks 7.1
// knows.
func TestCgroupShow(t *testing.T) {
	cg := testCgroup(t)
	child := filepath.Join(cg, "i10_child")
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(child) })
	in, inID := returnProg(t, "i10_cg_in", ebpf.CGroupSKB, ebpf.AttachCGroupInetIngress, 1)
	eg, egID := returnProg(t, "i10_cg_eg", ebpf.CGroupSKB, ebpf.AttachCGroupInetEgress, 1)
	linkType, linkName := ebpf.AttachCgroupUnixConnect, "cgroup_unix_connect"
	if !testutil.Has(t, "unix_cgroup") {
		linkType, linkName = ebpf.AttachCGroupInet4Connect, "cgroup_inet4_connect"
	}
	ux, uxID := returnProg(t, "i10_cg_unix", ebpf.CGroupSockAddr, linkType, 1)
	detachLater(t, cg, ebpf.AttachCGroupInetIngress, in)
	detachLater(t, cg, ebpf.AttachCGroupInetEgress, eg)

	mustBpfkit(t, "cgroup", "attach", cg, "ingress", "id", itoa(inID), "multi")
	testutil.Bpftool78Output(t, "cgroup", "attach", cg, "cgroup_inet_egress", "id", itoa(egID))
	l, err := link.AttachCgroup(link.CgroupOptions{Path: cg, Attach: linkType, Program: ux})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	for _, args := range [][]string{
		{"cgroup", "show", cg},
		{"cgroup", "show", child, "effective"},
		{"cgroup", "tree", cg},
		{"cgroup", "tree", cg, "effective"},
	} {
		got := mustBpfkit(t, append([]string{"-j"}, args...)...)
		want := string(testutil.Bpftool78Output(t, append([]string{"-j"}, args...)...))
		if got != want {
			t.Errorf("bpfkit -j %s differs from bpftool 7.8:\nbpfkit:  %sbpftool: %s", strings.Join(args, " "), got, want)
		}
	}
	got := mustBpfkit(t, "-j", "cgroup", "show", cg)
	for _, want := range []string{
		fmt.Sprintf(`{"id":%d,"attach_type":"cgroup_inet_ingress","attach_flags":"multi","name":"i10_cg_in",`, inID),
		fmt.Sprintf(`{"id":%d,"attach_type":"cgroup_inet_egress","attach_flags":"","name":"i10_cg_eg",`, egID),
		fmt.Sprintf(`{"id":%d,"attach_type":"%s","attach_flags":"multi","name":"i10_cg_unix",`, uxID, linkName),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("cgroup show -j: no %s in\n%s", want, got)
		}
	}
	// bpftool 7.1 asks about no unix socket hook: the rest is the same.
	var all, v71 []json.RawMessage
	json.Unmarshal([]byte(got), &all)
	json.Unmarshal(testutil.BpftoolOutput(t, "-j", "cgroup", "show", cg), &v71)
	var known []json.RawMessage
	for _, e := range all {
		if !strings.Contains(string(e), "cgroup_unix_") {
			known = append(known, e)
		}
	}
	if a, b := mustJSON(known), mustJSON(v71); a != b {
		t.Errorf("cgroup show -j differs from bpftool 7.1 on the hooks it knows:\nbpfkit:  %s\nbpftool: %s", a, b)
	}

	text := mustBpfkit(t, "cgroup", "show", cg)
	for _, row := range [][]string{
		{itoa(inID), "cgroup_inet_ingress", "multi", "i10_cg_in"},
		{itoa(egID), "cgroup_inet_egress", "-", "i10_cg_eg"},
		{itoa(uxID), linkName, "multi", "i10_cg_unix"},
	} {
		if !hasRow(text, row...) {
			t.Errorf("cgroup show: no row %q:\n%s", row, text)
		}
	}
	if !strings.HasPrefix(text, "ID ") || !hasRow(text, "ID", "ATTACH TYPE", "FLAGS", "NAME") {
		t.Errorf("cgroup show: header:\n%s", text)
	}
	eff := mustBpfkit(t, "cgroup", "show", child, "effective")
	if hasRow(eff, "FLAGS") || !hasRow(eff, itoa(inID), "cgroup_inet_ingress", "i10_cg_in") {
		t.Errorf("cgroup show effective (inherited, no flags):\n%s", eff)
	}
	tree := mustBpfkit(t, "cgroup", "tree", cg)
	if !hasRow(tree, "CGROUP", "ID") || !hasRow(tree, cg, itoa(inID), "cgroup_inet_ingress") || strings.Contains(tree, child) {
		t.Errorf("cgroup tree:\n%s", tree)
	}
}

// TestCgroupAttachDetach: attach and detach round-trip as bpftool sees
// them, and bad input fails in one line and changes nothing.
func TestCgroupAttachDetach(t *testing.T) {
	cg := testCgroup(t)
	p, id := returnProg(t, "i10_cg_rt", ebpf.CGroupSKB, ebpf.AttachCGroupInetIngress, 1)
	_, xdp := returnProg(t, "i10_cg_xdp", ebpf.XDP, ebpf.AttachNone, 2)
	detachLater(t, cg, ebpf.AttachCGroupInetIngress, p)
	bpftoolSees := func() string {
		out, _ := testutil.Bpftool78(t, "-j", "cgroup", "show", cg)
		return string(out)
	}
	fails := func(want string, args ...string) {
		t.Helper()
		r := bpfkit(t, args...)
		if r.code == 0 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("bpfkit %s: exit %d, stdout %q, stderr %q; want one error line with %q", strings.Join(args, " "), r.code, r.stdout, r.stderr, want)
		}
	}

	if out := mustBpfkit(t, "-j", "cgroup", "attach", cg, "cgroup_inet_ingress", "id", itoa(id), "multi"); out != "null\n" {
		t.Errorf("cgroup attach -j: %q, want null", out)
	}
	if !strings.Contains(bpftoolSees(), fmt.Sprintf(`"id":%d,"attach_type":"cgroup_inet_ingress","attach_flags":"multi"`, id)) {
		t.Fatalf("bpftool does not see the attachment: %s", bpftoolSees())
	}
	fails("already attached to "+cg+" as cgroup_inet_ingress", "cgroup", "attach", cg, "ingress", "id", itoa(id), "multi")
	mustBpfkit(t, "cgroup", "detach", cg, "ingress", "id", itoa(id))
	if out := bpftoolSees(); strings.Contains(out, itoa(id)) {
		t.Errorf("after cgroup detach bpftool still sees it: %s", out)
	}
	fails("not attached to "+cg, "cgroup", "detach", cg, "ingress", "id", itoa(id))

	fails("/tmp is not a cgroup", "cgroup", "show", "/tmp")
	fails("/tmp is not a cgroup", "cgroup", "attach", "/tmp", "ingress", "id", itoa(id))
	fails("is a cgroup v1 directory", "cgroup", "show", cgroupV1(t))
	fails("can't open cgroup /nonexistent: no such file or directory", "cgroup", "show", "/nonexistent")
	fails("has type xdp: cgroup_inet_ingress takes cgroup_skb programs", "cgroup", "attach", cg, "ingress", "id", itoa(xdp))
	fails("invalid attach type: xdp is not a cgroup attach type", "cgroup", "attach", cg, "xdp", "id", itoa(id))
	fails("invalid attach type: bogus", "cgroup", "attach", cg, "bogus", "id", itoa(id))
	fails("unknown option: sideways", "cgroup", "attach", cg, "ingress", "id", itoa(id), "sideways")
	fails("too few parameters", "cgroup", "attach", cg, "ingress")
	fails("expected no more arguments, 'effective', got: 'x'", "cgroup", "show", cg, "x")
	// bpftool prints nothing (but a newline) for a cgroup without programs.
	if out := strings.TrimSpace(bpftoolSees()); out != "" {
		t.Errorf("bad input left something attached: %s", out)
	}
	if got := mustBpfkit(t, "-j", "cgroup", "show", cg); got != "[]\n" {
		t.Errorf("cgroup show -j of a cgroup without programs: %q, want []", got)
	}
}
