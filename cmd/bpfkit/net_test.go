package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// netShowJSON decodes the one object of `net show -j` into its sections.
func netShowJSON(t *testing.T, out string) map[string]json.RawMessage {
	t.Helper()
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &arr); err != nil || len(arr) != 1 {
		t.Fatalf("net show -j: want an array of one object: %v: %s", err, out)
	}
	return arr[0]
}

// entries decodes a section of `net show -j`.
func entries(t *testing.T, raw json.RawMessage) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return out
}

// TestNetShow: in a network namespace the test makes, an XDP program
// attached with ip (netlink, generic mode), one attached through a link
// (driver mode), a tc classifier added with `tc filter ... bpf da`, a tcx
// link and a netfilter link all appear in `net show` with the right
// program ids, and -j is bpftool 7.8's JSON byte for byte (7.1's for what
// 7.1 knows: no tcx, no netfilter).
func TestNetShow(t *testing.T) {
	ns := testNetns(t)
	dir := i10PinDir(t)
	tcTool := testutil.RequireTool(t, "tc")
	xdpProg, xdpID := returnProg(t, "i10_xdp_nl", ebpf.XDP, ebpf.AttachNone, 2)
	if err := xdpProg.Pin(dir + "/xdp"); err != nil {
		t.Fatal(err)
	}
	// ip -n would mount another /sys, without bpffs: nsenter keeps it.
	mustInNetns(t, ns, testutil.RequireTool(t, "ip"), "link", "set", "dev", "i10v0", "xdpgeneric", "pinned", dir+"/xdp")
	tcObj := testutil.Object(t, "tc")
	removeIproute2Pins(t)
	for _, args := range [][]string{
		{"-n", ns, "qdisc", "add", "dev", "i10v0", "clsact"},
		{"-n", ns, "filter", "add", "dev", "i10v0", "ingress", "bpf", "da", "obj", tcObj, "sec", "tc"},
	} {
		if out, err := exec.Command(tcTool, args...).CombinedOutput(); err != nil {
			t.Fatalf("tc %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	xdpLinkProg, xdpLinkID := returnProg(t, "i10_xdp_link", ebpf.XDP, ebpf.AttachNone, 2)
	tcx, nf := testutil.Has(t, "tcx"), testutil.Has(t, "netfilter_link")
	var tcxID, nfID, tcxLinkID, nfLinkID uint32
	v0, v1 := ifindexIn(t, ns, "i10v0"), ifindexIn(t, ns, "i10v1")
	attaches := []func() (link.Link, error){func() (link.Link, error) {
		return link.AttachXDP(link.XDPOptions{Program: xdpLinkProg, Interface: v1, Flags: link.XDPDriverMode})
	}}
	if tcx {
		var tcxProg *ebpf.Program
		tcxProg, tcxID = returnProg(t, "i10_tcx", ebpf.SchedCLS, ebpf.AttachNone, 0)
		attaches = append(attaches, func() (link.Link, error) {
			return link.AttachTCX(link.TCXOptions{Program: tcxProg, Interface: v0, Attach: ebpf.AttachTCXEgress})
		})
	}
	if nf {
		var nfProg *ebpf.Program
		nfProg, nfID = returnProg(t, "i10_nf", ebpf.Netfilter, ebpf.AttachNetfilter, 1)
		attaches = append(attaches, func() (link.Link, error) {
			return link.AttachNetfilter(link.NetfilterOptions{Program: nfProg, ProtocolFamily: link.NetfilterProtoIPv4,
				Hook: link.NetfilterInetLocalIn, Priority: -123})
		})
	}
	var links []link.Link
	for _, attach := range attaches {
		var l link.Link
		var err error
		withNetns(t, ns, func() { l, err = attach() })
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		links = append(links, l)
	}
	if tcx {
		tcxLinkID = mustID(t, objects.Links, links[1])
	}
	if nf {
		nfLinkID = mustID(t, objects.Links, links[len(links)-1])
	}

	got := mustInNetns(t, ns, binPath, "-j", "net", "show")
	want78 := mustInNetns(t, ns, testutil.Bpftool78Path(t), "-j", "net", "show")
	want71 := mustInNetns(t, ns, testutil.RequireTool(t, "bpftool"), "-j", "net", "show")
	g, w78, w71 := netShowJSON(t, got), netShowJSON(t, want78), netShowJSON(t, want71)
	for _, sec := range []string{"xdp", "tc", "flow_dissector"} {
		if string(g[sec]) != string(w78[sec]) {
			t.Errorf("net show -j %q differs from bpftool 7.8:\nbpfkit:  %s\nbpftool: %s", sec, g[sec], w78[sec])
		}
	}
	if string(g["xdp"]) != string(w71["xdp"]) {
		t.Errorf("net show -j xdp differs from bpftool 7.1:\nbpfkit:  %s\nbpftool: %s", g["xdp"], w71["xdp"])
	}
	// bpftool 7.1 knows no tcx: its tc section is bpfkit's without them.
	var classic []json.RawMessage
	var all []json.RawMessage
	json.Unmarshal(g["tc"], &all)
	for _, e := range all {
		if !strings.Contains(string(e), `"prog_id"`) {
			classic = append(classic, e)
		}
	}
	if c, _ := json.Marshal(classic); string(c) != string(w71["tc"]) {
		t.Errorf("net show -j classic tc differs from bpftool 7.1:\nbpfkit:  %s\nbpftool: %s", c, w71["tc"])
	}
	if _, ok := w71["netfilter"]; ok {
		t.Errorf("bpftool 7.1 has a netfilter section: %s", want71)
	}

	// The right programs, each where it was attached.
	// Devices come in ifindex order.
	x0 := fmt.Sprintf(`{"devname":"i10v0","ifindex":%d,"mode":"generic","id":%d}`, v0, xdpID)
	x1 := fmt.Sprintf(`{"devname":"i10v1","ifindex":%d,"mode":"driver","id":%d}`, v1, xdpLinkID)
	wantXDP := "[" + x0 + "," + x1 + "]"
	if v1 < v0 {
		wantXDP = "[" + x1 + "," + x0 + "]"
	}
	if string(g["xdp"]) != wantXDP {
		t.Errorf("xdp: %s\nwant %s", g["xdp"], wantXDP)
	}
	tc := entries(t, g["tc"])
	if tcx {
		if len(tc) != 2 {
			t.Fatalf("tc: want the tcx link and the classifier: %s", g["tc"])
		}
		if tc[0]["kind"] != "tcx/egress" || tc[0]["prog_id"] != float64(tcxID) || tc[0]["link_id"] != float64(tcxLinkID) || tc[0]["name"] != "i10_tcx" {
			t.Errorf("tcx link: %v, want prog %d link %d", tc[0], tcxID, tcxLinkID)
		}
		tc = tc[1:]
	}
	if len(tc) != 1 {
		t.Fatalf("tc: want the classifier: %s", g["tc"])
	}
	clsID := uint32(tc[0]["id"].(float64))
	if tc[0]["kind"] != "clsact/ingress" || tc[0]["name"] != "tc.bpf.o:[tc]" {
		t.Errorf("classifier: %v", tc[0])
	}
	if p := mustBpfkit(t, "-j", "prog", "show", "id", itoa(clsID)); !strings.Contains(p, `"type":"sched_cls","name":"tc_ingress"`) {
		t.Errorf("the classifier's program %d is not tc.bpf.o's tc_ingress: %s", clsID, p)
	}
	if nf {
		wantNF := fmt.Sprintf(`{"pf":2,"hook":1,"prio":-123,"flags":0,"id":%d}`, nfID)
		for who, out := range map[string]string{"bpfkit": string(g["netfilter"]), "bpftool 7.8": string(w78["netfilter"])} {
			if !strings.Contains(out, wantNF) {
				t.Errorf("%s netfilter: %s, want %s among them", who, out, wantNF)
			}
		}
	}

	// The table: one row per program.
	text := mustInNetns(t, ns, binPath, "net")
	rows := [][]string{
		{"xdp", "i10v0(", "generic", itoa(xdpID)},
		{"xdp", "i10v1(", "driver", itoa(xdpLinkID)},
		{"tc", "i10v0(", "clsact/ingress", itoa(clsID), "tc.bpf.o:[tc]"},
	}
	if tcx {
		rows = append(rows, []string{"tc", "i10v0(", "tcx/egress", itoa(tcxID), "i10_tcx", itoa(tcxLinkID)})
	}
	if nf {
		rows = append(rows, []string{"netfilter", "-", "ip input prio -123", itoa(nfID), "i10_nf", itoa(nfLinkID)})
	}
	for _, row := range rows {
		if !hasRow(text, row...) {
			t.Errorf("net show: no row %q:\n%s", row, text)
		}
	}
	// dev limits the devices.
	one := netShowJSON(t, mustInNetns(t, ns, binPath, "-j", "net", "show", "dev", "i10v1"))
	if strings.Contains(string(one["xdp"]), "i10v0") || !strings.Contains(string(one["xdp"]), "i10v1") || string(one["tc"]) != "[]" {
		t.Errorf("net show dev i10v1: %s %s", one["xdp"], one["tc"])
	}
}

// hasRow reports whether a line of a table holds cells, in order, each
// starting a column.
func hasRow(table string, cells ...string) bool {
	for _, line := range strings.Split(table, "\n") {
		fields := strings.Fields(line)
		rest := strings.Join(fields, " ")
		ok := true
		for _, c := range cells {
			i := strings.Index(rest, c)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(c):]
		}
		if ok {
			return true
		}
	}
	return false
}

// ifindexIn returns the index of device dev in network namespace ns.
func ifindexIn(t *testing.T, ns, dev string) int {
	t.Helper()
	var index int
	withNetns(t, ns, func() {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			panic(err)
		}
		index = ifc.Index
	})
	return index
}

// TestNetAttachDetach: net attach and detach round-trip (bpftool 7.8
// sees the attachment, then no more), refuse an XDP program already there
// without overwrite and leave it in place, replace it with overwrite,
// prepend tcx programs; and bad input fails in one line, changing
// nothing.
func TestNetAttachDetach(t *testing.T) {
	ns := testNetns(t)
	_, x1 := returnProg(t, "i10_xdp_a", ebpf.XDP, ebpf.AttachNone, 2)
	_, x2 := returnProg(t, "i10_xdp_b", ebpf.XDP, ebpf.AttachNone, 2)
	_, t1 := returnProg(t, "i10_tcx_a", ebpf.SchedCLS, ebpf.AttachNone, 0)
	_, t2 := returnProg(t, "i10_tcx_b", ebpf.SchedCLS, ebpf.AttachNone, 0)
	_, tp := returnProg(t, "i10_tp", ebpf.TracePoint, ebpf.AttachNone, 0)
	b78 := testutil.Bpftool78Path(t)
	state := func() (xdp, tc string) {
		t.Helper()
		s := netShowJSON(t, mustInNetns(t, ns, b78, "-j", "net", "show", "dev", "i10v0"))
		return string(s["xdp"]), string(s["tc"])
	}
	v0 := ifindexIn(t, ns, "i10v0")
	xdpIs := func(id uint32) string {
		return fmt.Sprintf(`[{"devname":"i10v0","ifindex":%d,"mode":"generic","id":%d}]`, v0, id)
	}
	fails := func(want string, args ...string) {
		t.Helper()
		out, errOut, code := inNetns(t, ns, binPath, args...)
		if code == 0 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
			t.Errorf("bpfkit %s: exit %d, stdout %q, stderr %q; want one error line with %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}

	mustInNetns(t, ns, binPath, "net", "attach", "xdpgeneric", "id", itoa(x1), "dev", "i10v0")
	if xdp, _ := state(); xdp != xdpIs(x1) {
		t.Fatalf("after net attach: %s, want %s", xdp, xdpIs(x1))
	}
	fails("add 'overwrite'", "net", "attach", "xdpgeneric", "id", itoa(x2), "dev", "i10v0")
	if xdp, _ := state(); xdp != xdpIs(x1) {
		t.Errorf("a refused attach changed the device: %s", xdp)
	}
	if out := mustInNetns(t, ns, binPath, "-j", "net", "attach", "xdpg", "id", itoa(x2), "dev", "i10v0", "overwrite"); out != "null\n" {
		t.Errorf("net attach -j: %q, want null", out)
	}
	if xdp, _ := state(); xdp != xdpIs(x2) {
		t.Errorf("after overwrite: %s, want %s", xdp, xdpIs(x2))
	}
	mustInNetns(t, ns, binPath, "net", "detach", "xdpgeneric", "dev", "i10v0")
	if xdp, _ := state(); xdp != "[]" {
		t.Errorf("after net detach: %s", xdp)
	}

	if testutil.Has(t, "tcx") {
		mustInNetns(t, ns, binPath, "net", "attach", "tcx_ingress", "id", itoa(t1), "dev", "i10v0")
		mustInNetns(t, ns, binPath, "net", "attach", "tcx_ingress", "id", itoa(t2), "dev", "i10v0", "prepend")
		_, tc := state()
		var order []uint32
		for _, e := range entries(t, json.RawMessage(tc)) {
			order = append(order, uint32(e["prog_id"].(float64)))
		}
		if fmt.Sprint(order) != fmt.Sprint([]uint32{t2, t1}) {
			t.Errorf("tcx programs %v, want %d prepended to %d: %s", order, t2, t1, tc)
		}
		fails("already attached", "net", "attach", "tcx_ingress", "id", itoa(t1), "dev", "i10v0")
		// Detach removes the last one first.
		mustInNetns(t, ns, binPath, "net", "detach", "tcx_ingress", "dev", "i10v0")
		if _, tc := state(); !strings.Contains(tc, fmt.Sprintf(`"prog_id":%d`, t2)) || strings.Contains(tc, fmt.Sprintf(`"prog_id":%d`, t1)) {
			t.Errorf("after one tcx detach: %s, want only %d", tc, t2)
		}
		mustInNetns(t, ns, binPath, "net", "detach", "tcx_ingress", "dev", "i10v0")
		if _, tc := state(); tc != "[]" {
			t.Errorf("after tcx detach: %s", tc)
		}
		fails("no program attached", "net", "detach", "tcx_ingress", "dev", "i10v0")
	}

	// Bad input.
	fails("no network device nosuch", "net", "attach", "xdp", "id", itoa(x1), "dev", "nosuch")
	fails("no network device nosuch", "net", "show", "dev", "nosuch")
	fails("no network device nosuch", "net", "detach", "xdp", "dev", "nosuch")
	fails("has type tracepoint: xdpgeneric takes xdp programs", "net", "attach", "xdpgeneric", "id", itoa(tp), "dev", "i10v0")
	fails("has type xdp: tcx_egress takes sched_cls programs", "net", "attach", "tcx_egress", "id", itoa(x1), "dev", "i10v0")
	fails("invalid net attach/detach type: tcp", "net", "attach", "tcp", "id", itoa(t1), "dev", "i10v0")
	fails("'overwrite' is only supported for xdp types", "net", "attach", "tcx_egress", "id", itoa(t1), "dev", "i10v0", "overwrite")
	fails("'prepend' is only supported", "net", "attach", "xdp", "id", itoa(x1), "dev", "i10v0", "prepend")
	fails("expected 'dev', got: 'i10v0'", "net", "attach", "xdp", "id", itoa(x1), "i10v0", "x")
	fails("no program with id 4294967295", "net", "attach", "xdp", "id", "4294967295", "dev", "i10v0")
	if xdp, tc := state(); xdp != "[]" || tc != "[]" {
		t.Errorf("bad input left something attached: %s %s", xdp, tc)
	}
}

// TestNetAttachWithoutTCX: on a kernel without tcx (Debian 12's 6.1, in
// the qemu guest) net attach tcx_* says so in one line.
func TestNetAttachWithoutTCX(t *testing.T) {
	testutil.Lacks(t, "tcx")
	ns := testNetns(t)
	_, id := returnProg(t, "i10_no_tcx", ebpf.SchedCLS, ebpf.AttachNone, 0)
	out, errOut, code := inNetns(t, ns, binPath, "net", "attach", "tcx_ingress", "id", itoa(id), "dev", "i10v0")
	if code == 0 || out != "" || errOut != "Error: net attach: interface tcx_ingress attach failed: this kernel has no tcx hooks (Linux 6.6 added them): invalid argument\n" {
		t.Errorf("net attach tcx_ingress without tcx: exit %d, %q, %q", code, out, errOut)
	}
}

// removeIproute2Pins removes, when the test ends, what tc's object loader
// leaves in bpffs (its tc/globals directory and the ip and xdp links to
// it) unless they were there before.
func removeIproute2Pins(t *testing.T) {
	t.Helper()
	var made []string
	for _, name := range []string{"ip", "xdp", "tc"} {
		path := filepath.Join("/sys/fs/bpf", name)
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			made = append(made, path)
		}
	}
	t.Cleanup(func() {
		for _, path := range made {
			if err := os.RemoveAll(path); err != nil {
				t.Errorf("remove tc's %s: %v", path, err)
			}
		}
	})
}
