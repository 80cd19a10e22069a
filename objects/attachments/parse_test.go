package attachments

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

// The attach type words, by prefix in bpftool's table order.
func TestParseAttachTypes(t *testing.T) {
	for word, want := range map[string]string{"xdp": "xdp", "xdpg": "xdpgeneric", "xdpd": "xdpdrv", "xdpo": "xdpoffload",
		"t": "tcx_ingress", "tcx_e": "tcx_egress"} {
		if h, err := ParseNetHook(word); err != nil || h.Name != want {
			t.Errorf("ParseNetHook(%q) = %q, %v; want %s", word, h.Name, err, want)
		}
	}
	if _, err := ParseNetHook("tcp"); err == nil || !strings.Contains(err.Error(), "invalid net attach/detach type: tcp") {
		t.Errorf("ParseNetHook(tcp): %v", err)
	}
	for word, want := range map[string]ebpf.AttachType{
		"cgroup_inet_ingress": ebpf.AttachCGroupInetIngress, "ingress": ebpf.AttachCGroupInetIngress, "e": ebpf.AttachCGroupInetEgress,
		"connect4": ebpf.AttachCGroupInet4Connect, "cgroup_unix_connect": ebpf.AttachCgroupUnixConnect,
		"cgroup_unix_s": ebpf.AttachCgroupUnixSendmsg, "sock_r": ebpf.AttachCgroupInetSockRelease, "lsm_cgroup": ebpf.AttachLSMCgroup,
	} {
		if got, err := ParseCgroupAttachType(word); err != nil || got != want {
			t.Errorf("ParseCgroupAttachType(%q) = %v, %v; want %v", word, got, err, want)
		}
	}
	for word, want := range map[string]string{"xdp": "xdp is not a cgroup attach type", "": "invalid attach type: ", "bogus": "invalid attach type: bogus"} {
		if _, err := ParseCgroupAttachType(word); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCgroupAttachType(%q): %v, want %q", word, err, want)
		}
	}
	for word, want := range map[string]ebpf.AttachType{
		"s": ebpf.AttachSkSKBStreamParser, "stream_v": ebpf.AttachSkSKBStreamVerdict, "msg": ebpf.AttachSkMsgVerdict,
		"skb_verdict": ebpf.AttachSkSKBVerdict, "sk_skb_verdict": ebpf.AttachSkSKBVerdict, "flow_dissector": ebpf.AttachFlowDissector,
		"sk_msg_verdict": ebpf.AttachSkMsgVerdict,
	} {
		if got, err := ParseProgAttachType(word); err != nil || got != want {
			t.Errorf("ParseProgAttachType(%q) = %v, %v; want %v", word, got, err, want)
		}
	}
	// flow_dissector has no older name: no prefix of it works.
	if _, err := ParseProgAttachType("flow"); err == nil {
		t.Error("ParseProgAttachType(flow) worked")
	}
	if NeedsMap(ebpf.AttachFlowDissector) || !NeedsMap(ebpf.AttachSkMsgVerdict) {
		t.Error("NeedsMap")
	}
}

func TestNetfilterNamesAndBits(t *testing.T) {
	for _, c := range []struct {
		pf, hook   uint32
		pfN, hookN string
		ok         bool
	}{
		{2, 1, "ip", "input", true}, {10, 4, "ip6", "postrouting", true}, {3, 1, "arp", "output", true},
		{3, 2, "arp", "", false}, {5, 0, "netdev", "", false}, {99, 0, "", "", false},
	} {
		pf, hook, ok := NetfilterNames(c.pf, c.hook)
		if pf != c.pfN || hook != c.hookN || ok != c.ok {
			t.Errorf("NetfilterNames(%d, %d) = %q %q %v", c.pf, c.hook, pf, hook, ok)
		}
	}
	if got := fmt.Sprint(bits(0x8005)); got != "[1 4 32768]" {
		t.Errorf("bits(0x8005) = %s", got)
	}
	if got := bits(0); got == nil || len(got) != 0 {
		t.Errorf("bits(0) = %#v, want an empty list (bpftool's [])", got)
	}
}
