package loader

import (
	"strings"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
)

// sectionWord is one TYPE word bpftool's prog load accepts: a section name
// (or its leading part) with the program and expected attach type it
// implies.
type sectionWord struct {
	word   string
	prog   ebpf.ProgramType
	attach ebpf.AttachType
}

// sectionWords lists the TYPE words of bpftool's prog load. Longer words
// come before their prefixes.
var sectionWords = []sectionWord{
	{"socket", ebpf.SocketFilter, ebpf.AttachNone},
	{"kprobe", ebpf.Kprobe, ebpf.AttachNone},
	{"kretprobe", ebpf.Kprobe, ebpf.AttachNone},
	{"uprobe", ebpf.Kprobe, ebpf.AttachNone},
	{"uretprobe", ebpf.Kprobe, ebpf.AttachNone},
	{"classifier", ebpf.SchedCLS, ebpf.AttachNone},
	{"tc", ebpf.SchedCLS, ebpf.AttachNone},
	{"tcx/ingress", ebpf.SchedCLS, ebpf.AttachTCXIngress},
	{"tcx/egress", ebpf.SchedCLS, ebpf.AttachTCXEgress},
	{"action", ebpf.SchedACT, ebpf.AttachNone},
	{"tracepoint", ebpf.TracePoint, ebpf.AttachNone},
	{"tp", ebpf.TracePoint, ebpf.AttachNone},
	{"raw_tracepoint", ebpf.RawTracepoint, ebpf.AttachNone},
	{"raw_tp", ebpf.RawTracepoint, ebpf.AttachNone},
	{"raw_tracepoint.w", ebpf.RawTracepointWritable, ebpf.AttachNone},
	{"tp_btf", ebpf.Tracing, ebpf.AttachTraceRawTp},
	{"xdp", ebpf.XDP, ebpf.AttachXDP},
	{"perf_event", ebpf.PerfEvent, ebpf.AttachNone},
	{"cgroup/skb", ebpf.CGroupSKB, ebpf.AttachNone},
	{"cgroup_skb/ingress", ebpf.CGroupSKB, ebpf.AttachCGroupInetIngress},
	{"cgroup_skb/egress", ebpf.CGroupSKB, ebpf.AttachCGroupInetEgress},
	{"cgroup/sock", ebpf.CGroupSock, ebpf.AttachCGroupInetSockCreate},
	{"cgroup/sock_create", ebpf.CGroupSock, ebpf.AttachCGroupInetSockCreate},
	{"cgroup/sock_release", ebpf.CGroupSock, ebpf.AttachCgroupInetSockRelease},
	{"cgroup/post_bind4", ebpf.CGroupSock, ebpf.AttachCGroupInet4PostBind},
	{"cgroup/post_bind6", ebpf.CGroupSock, ebpf.AttachCGroupInet6PostBind},
	{"cgroup/dev", ebpf.CGroupDevice, ebpf.AttachCGroupDevice},
	{"lwt_in", ebpf.LWTIn, ebpf.AttachNone},
	{"lwt_out", ebpf.LWTOut, ebpf.AttachNone},
	{"lwt_xmit", ebpf.LWTXmit, ebpf.AttachNone},
	{"lwt_seg6local", ebpf.LWTSeg6Local, ebpf.AttachNone},
	{"sockops", ebpf.SockOps, ebpf.AttachCGroupSockOps},
	{"sk_skb", ebpf.SkSKB, ebpf.AttachNone},
	{"sk_skb/stream_parser", ebpf.SkSKB, ebpf.AttachSkSKBStreamParser},
	{"sk_skb/stream_verdict", ebpf.SkSKB, ebpf.AttachSkSKBStreamVerdict},
	{"sk_msg", ebpf.SkMsg, ebpf.AttachSkMsgVerdict},
	{"lirc_mode2", ebpf.LircMode2, ebpf.AttachLircMode2},
	{"flow_dissector", ebpf.FlowDissector, ebpf.AttachFlowDissector},
	{"cgroup/bind4", ebpf.CGroupSockAddr, ebpf.AttachCGroupInet4Bind},
	{"cgroup/bind6", ebpf.CGroupSockAddr, ebpf.AttachCGroupInet6Bind},
	{"cgroup/connect4", ebpf.CGroupSockAddr, ebpf.AttachCGroupInet4Connect},
	{"cgroup/connect6", ebpf.CGroupSockAddr, ebpf.AttachCGroupInet6Connect},
	{"cgroup/connect_unix", ebpf.CGroupSockAddr, ebpf.AttachCgroupUnixConnect},
	{"cgroup/sendmsg4", ebpf.CGroupSockAddr, ebpf.AttachCGroupUDP4Sendmsg},
	{"cgroup/sendmsg6", ebpf.CGroupSockAddr, ebpf.AttachCGroupUDP6Sendmsg},
	{"cgroup/recvmsg4", ebpf.CGroupSockAddr, ebpf.AttachCGroupUDP4Recvmsg},
	{"cgroup/recvmsg6", ebpf.CGroupSockAddr, ebpf.AttachCGroupUDP6Recvmsg},
	{"cgroup/getpeername4", ebpf.CGroupSockAddr, ebpf.AttachCgroupInet4GetPeername},
	{"cgroup/getpeername6", ebpf.CGroupSockAddr, ebpf.AttachCgroupInet6GetPeername},
	{"cgroup/getsockname4", ebpf.CGroupSockAddr, ebpf.AttachCgroupInet4GetSockname},
	{"cgroup/getsockname6", ebpf.CGroupSockAddr, ebpf.AttachCgroupInet6GetSockname},
	{"cgroup/sysctl", ebpf.CGroupSysctl, ebpf.AttachCGroupSysctl},
	{"cgroup/getsockopt", ebpf.CGroupSockopt, ebpf.AttachCGroupGetsockopt},
	{"cgroup/setsockopt", ebpf.CGroupSockopt, ebpf.AttachCGroupSetsockopt},
	{"struct_ops", ebpf.StructOps, ebpf.AttachNone},
	{"fentry", ebpf.Tracing, ebpf.AttachTraceFEntry},
	{"fexit", ebpf.Tracing, ebpf.AttachTraceFExit},
	{"fmod_ret", ebpf.Tracing, ebpf.AttachModifyReturn},
	{"freplace", ebpf.Extension, ebpf.AttachNone},
	{"lsm", ebpf.LSM, ebpf.AttachLSMMac},
	{"iter", ebpf.Tracing, ebpf.AttachTraceIter},
	{"sk_lookup", ebpf.SkLookup, ebpf.AttachSkLookup},
	{"syscall", ebpf.Syscall, ebpf.AttachNone},
	{"netfilter", ebpf.Netfilter, ebpf.AttachNetfilter},
}

// ProgTypeBySectionWord resolves a TYPE word of bpftool's prog load to a
// program type and expected attach type. Like bpftool it accepts a whole
// section name ("kprobe/do_sys_open") as well as its leading word.
func ProgTypeBySectionWord(word string) (ebpf.ProgramType, ebpf.AttachType, bool) {
	try := []string{word}
	if before, _, ok := strings.Cut(word, "/"); ok {
		try = append(try, before)
	}
	for _, w := range try {
		for _, s := range sectionWords {
			if s.word == w {
				return s.prog, s.attach, true
			}
		}
	}
	// A libbpf program type name ("sched_cls") is accepted too.
	if pt, ok := objects.ProgTypeByName(word); ok {
		return pt, ebpf.AttachNone, true
	}
	return ebpf.UnspecifiedProgram, ebpf.AttachNone, false
}

// SectionWords lists the TYPE words ProgTypeBySectionWord accepts, for help
// text.
func SectionWords() []string {
	out := make([]string, len(sectionWords))
	for i, s := range sectionWords {
		out[i] = s.word
	}
	return out
}
