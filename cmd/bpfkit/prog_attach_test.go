package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestProgAttachSockmap: prog attach and detach of sk_msg and sk_skb
// programs to a sockmap round-trip (the kernel's own query of the map
// sees them), the older names work by prefix, and bad input fails in one
// line.
func TestProgAttachSockmap(t *testing.T) {
	sockmap, mapID := newMap(t, &ebpf.MapSpec{Name: "i10_sockmap", Type: ebpf.SockMap, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	_, hashID := newMap(t, &ebpf.MapSpec{Name: "i10_hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	_, msgID := returnProg(t, "i10_msg", ebpf.SkMsg, ebpf.AttachSkMsgVerdict, 1)
	_, parserID := returnProg(t, "i10_parser", ebpf.SkSKB, ebpf.AttachSkSKBStreamParser, 0)
	_, verdictID := returnProg(t, "i10_verdict", ebpf.SkSKB, ebpf.AttachSkSKBVerdict, 1)
	_, xdpID := returnProg(t, "i10_not_skb", ebpf.XDP, ebpf.AttachNone, 2)
	// Before Linux 6.4 the kernel cannot list a sockmap's programs:
	// then detach, which fails for a program not attached, is the check.
	query := testutil.Has(t, "sockmap_query")
	attachedTo := func(typ ebpf.AttachType, want ...uint32) {
		t.Helper()
		if !query {
			return
		}
		q, err := queryMap(sockmap, typ)
		if err != nil {
			t.Fatalf("query sockmap: %v", err)
		}
		if fmt.Sprint(q) != fmt.Sprint(want) {
			t.Errorf("the map has %v as %s, want %v", q, typ, want)
		}
	}
	cases := []struct {
		word, name string
		typ        ebpf.AttachType
		id         uint32
	}{
		{"sk_msg_verdict", "sk_msg_verdict", ebpf.AttachSkMsgVerdict, msgID},
		{"stream_p", "sk_skb_stream_parser", ebpf.AttachSkSKBStreamParser, parserID},
		{"skb_verdict", "sk_skb_verdict", ebpf.AttachSkSKBVerdict, verdictID},
	}
	for _, c := range cases {
		if out := mustBpfkit(t, "-j", "prog", "attach", "id", itoa(c.id), c.word, "id", itoa(mapID)); out != "null\n" {
			t.Errorf("prog attach -j: %q", out)
		}
		attachedTo(c.typ, c.id)
	}
	for _, c := range cases {
		mustBpfkit(t, "prog", "detach", "id", itoa(c.id), c.word, "id", itoa(mapID))
		attachedTo(c.typ)
	}
	fails := func(want string, args ...string) {
		t.Helper()
		r := bpfkit(t, args...)
		if r.code == 0 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("bpfkit %s: exit %d, stdout %q, stderr %q; want one error line with %q", strings.Join(args, " "), r.code, r.stdout, r.stderr, want)
		}
	}
	fails("not attached there as sk_msg_verdict", "prog", "detach", "id", itoa(msgID), "msg_verdict", "id", itoa(mapID))
	fails("has type xdp: sk_skb_verdict takes sk_skb programs", "prog", "attach", "id", itoa(xdpID), "sk_skb_verdict", "id", itoa(mapID))
	fails("has type sk_msg: sk_skb_stream_verdict takes sk_skb programs", "prog", "attach", "id", itoa(msgID), "stream_verdict", "id", itoa(mapID))
	fails("attaches to a sockmap or sockhash, not a hash map", "prog", "attach", "id", itoa(msgID), "sk_msg_verdict", "id", itoa(hashID))
	fails("invalid attach/detach type: xdp", "prog", "attach", "id", itoa(msgID), "xdp", "id", itoa(mapID))
	fails("map specifier is missing", "prog", "attach", "id", itoa(msgID), "sk_msg_verdict")
	fails("no map with id 4294967295", "prog", "attach", "id", itoa(msgID), "sk_msg_verdict", "id", "4294967295")
	for _, c := range cases {
		attachedTo(c.typ)
		fails("not attached there as "+c.name, "prog", "detach", "id", itoa(c.id), c.word, "id", itoa(mapID))
	}
}

// TestProgAttachFlowDissector: in a network namespace the test makes,
// prog attach flow_dissector shows in `net show` (bpftool 7.8 sees the
// same id) and prog detach removes it.
func TestProgAttachFlowDissector(t *testing.T) {
	ns := testNetns(t)
	_, id := returnProg(t, "i10_flow", ebpf.FlowDissector, ebpf.AttachFlowDissector, 0)
	mustInNetns(t, ns, binPath, "prog", "attach", "id", itoa(id), "flow_dissector")
	got := netShowJSON(t, mustInNetns(t, ns, binPath, "-j", "net"))
	if want := fmt.Sprintf(`[{"id":%d}]`, id); string(got["flow_dissector"]) != want {
		t.Errorf("flow_dissector: %s, want %s", got["flow_dissector"], want)
	}
	// bpftool writes the id straight into the array, which is not JSON:
	// its plain text says the same.
	plain := mustInNetns(t, ns, testutil.Bpftool78Path(t), "net")
	if !strings.Contains(plain, fmt.Sprintf("flow_dissector:\nid %d\n", id)) {
		t.Errorf("bpftool 7.8 net:\n%s\nwant flow_dissector id %d", plain, id)
	}
	if text := mustInNetns(t, ns, binPath, "net"); !hasRow(text, "flow_dissector", "-", "-", itoa(id), "i10_flow") {
		t.Errorf("net show table:\n%s", text)
	}
	mustInNetns(t, ns, binPath, "prog", "detach", "id", itoa(id), "flow_dissector")
	got = netShowJSON(t, mustInNetns(t, ns, binPath, "-j", "net"))
	if string(got["flow_dissector"]) != "[]" {
		t.Errorf("after prog detach: flow_dissector %s", got["flow_dissector"])
	}
	// The root namespace is left alone.
	if out := mustBpfkit(t, "-j", "net"); strings.Contains(out, fmt.Sprintf(`"flow_dissector":[{"id":%d}]`, id)) {
		t.Errorf("the root namespace got the flow dissector: %s", out)
	}
}
