package elfobj

import (
	"strings"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
)

// progSection maps a section name prefix to a program type and attach
// type, as libbpf's conventions define them (and cilium/ebpf follows).
// The reader uses cilium/ebpf's answer when it has one; this table answers
// when cilium/ebpf refuses the object, so the listing still says what each
// program is. TestSectionTableAgreesWithCilium keeps the two in step.
type progSection struct {
	prefix string
	prog   string // libbpf's program type name
	attach string // libbpf's attach type name, or ""
	target bool   // what follows "prefix/" names the attach target
}

// Longer prefixes come before the shorter ones they extend.
var progSections = []progSection{
	{"socket", "socket_filter", "", false},
	{"sk_reuseport/migrate", "sk_reuseport", "sk_reuseport_select_or_migrate", false},
	{"sk_reuseport", "sk_reuseport", "sk_reuseport_select", false},
	{"kprobe.multi", "kprobe", "trace_kprobe_multi", true},
	{"kretprobe.multi", "kprobe", "trace_kprobe_multi", true},
	{"kprobe.session", "kprobe", "trace_kprobe_session", true},
	{"uprobe.multi.s", "kprobe", "trace_uprobe_multi", true},
	{"uretprobe.multi.s", "kprobe", "trace_uprobe_multi", true},
	{"uprobe.multi", "kprobe", "trace_uprobe_multi", true},
	{"uretprobe.multi", "kprobe", "trace_uprobe_multi", true},
	{"uprobe.session.s", "kprobe", "trace_uprobe_session", true},
	{"uprobe.session", "kprobe", "trace_uprobe_session", true},
	{"kprobe", "kprobe", "", true},
	{"kretprobe", "kprobe", "", true},
	{"uprobe.s", "kprobe", "", true},
	{"uretprobe.s", "kprobe", "", true},
	{"uprobe", "kprobe", "", true},
	{"uretprobe", "kprobe", "", true},
	{"ksyscall", "kprobe", "", true},
	{"kretsyscall", "kprobe", "", true},
	{"usdt.s", "kprobe", "", true},
	{"usdt", "kprobe", "", true},
	{"tc/ingress", "sched_cls", "tcx_ingress", false},
	{"tc/egress", "sched_cls", "tcx_egress", false},
	{"tcx/ingress", "sched_cls", "tcx_ingress", false},
	{"tcx/egress", "sched_cls", "tcx_egress", false},
	{"netkit/primary", "sched_cls", "netkit_primary", false},
	{"netkit/peer", "sched_cls", "netkit_peer", false},
	{"tc", "sched_cls", "", false},
	{"classifier", "sched_cls", "", false},
	{"action", "sched_act", "", false},
	{"tracepoint", "tracepoint", "", true},
	{"tp_btf", "tracing", "trace_raw_tp", true},
	{"tp", "tracepoint", "", true},
	{"raw_tracepoint.w", "raw_tracepoint_writable", "", true},
	{"raw_tp.w", "raw_tracepoint_writable", "", true},
	{"raw_tracepoint", "raw_tracepoint", "", true},
	{"raw_tp", "raw_tracepoint", "", true},
	{"fentry.s", "tracing", "trace_fentry", true},
	{"fentry", "tracing", "trace_fentry", true},
	{"fmod_ret.s", "tracing", "modify_return", true},
	{"fmod_ret", "tracing", "modify_return", true},
	{"fexit.s", "tracing", "trace_fexit", true},
	{"fexit", "tracing", "trace_fexit", true},
	{"freplace", "ext", "", true},
	{"lsm_cgroup", "lsm", "lsm_cgroup", true},
	{"lsm.s", "lsm", "lsm_mac", true},
	{"lsm", "lsm", "lsm_mac", true},
	{"iter.s", "tracing", "trace_iter", true},
	{"iter", "tracing", "trace_iter", true},
	{"syscall", "syscall", "", false},
	{"xdp.frags/devmap", "xdp", "xdp_devmap", false},
	{"xdp/devmap", "xdp", "xdp_devmap", false},
	{"xdp.frags/cpumap", "xdp", "xdp_cpumap", false},
	{"xdp/cpumap", "xdp", "xdp_cpumap", false},
	{"xdp.frags", "xdp", "xdp", false},
	{"xdp", "xdp", "xdp", false},
	{"perf_event", "perf_event", "", false},
	{"lwt_in", "lwt_in", "", false},
	{"lwt_out", "lwt_out", "", false},
	{"lwt_xmit", "lwt_xmit", "", false},
	{"lwt_seg6local", "lwt_seg6local", "", false},
	{"sockops", "sock_ops", "cgroup_sock_ops", false},
	{"sk_skb/stream_parser", "sk_skb", "sk_skb_stream_parser", false},
	{"sk_skb/stream_verdict", "sk_skb", "sk_skb_stream_verdict", false},
	{"sk_skb/verdict", "sk_skb", "sk_skb_verdict", false},
	{"sk_skb", "sk_skb", "", false},
	{"sk_msg", "sk_msg", "sk_msg_verdict", false},
	{"lirc_mode2", "lirc_mode2", "lirc_mode2", false},
	{"flow_dissector", "flow_dissector", "flow_dissector", false},
	{"cgroup_skb/ingress", "cgroup_skb", "cgroup_inet_ingress", false},
	{"cgroup_skb/egress", "cgroup_skb", "cgroup_inet_egress", false},
	{"cgroup/skb", "cgroup_skb", "", false},
	{"cgroup/sock_create", "cgroup_sock", "cgroup_inet_sock_create", false},
	{"cgroup/sock_release", "cgroup_sock", "cgroup_inet_sock_release", false},
	{"cgroup/sock", "cgroup_sock", "cgroup_inet_sock_create", false},
	{"cgroup/post_bind4", "cgroup_sock", "cgroup_inet4_post_bind", false},
	{"cgroup/post_bind6", "cgroup_sock", "cgroup_inet6_post_bind", false},
	{"cgroup/bind4", "cgroup_sock_addr", "cgroup_inet4_bind", false},
	{"cgroup/bind6", "cgroup_sock_addr", "cgroup_inet6_bind", false},
	{"cgroup/connect4", "cgroup_sock_addr", "cgroup_inet4_connect", false},
	{"cgroup/connect6", "cgroup_sock_addr", "cgroup_inet6_connect", false},
	{"cgroup/connect_unix", "cgroup_sock_addr", "cgroup_unix_connect", false},
	{"cgroup/sendmsg4", "cgroup_sock_addr", "cgroup_udp4_sendmsg", false},
	{"cgroup/sendmsg6", "cgroup_sock_addr", "cgroup_udp6_sendmsg", false},
	{"cgroup/sendmsg_unix", "cgroup_sock_addr", "cgroup_unix_sendmsg", false},
	{"cgroup/recvmsg4", "cgroup_sock_addr", "cgroup_udp4_recvmsg", false},
	{"cgroup/recvmsg6", "cgroup_sock_addr", "cgroup_udp6_recvmsg", false},
	{"cgroup/recvmsg_unix", "cgroup_sock_addr", "cgroup_unix_recvmsg", false},
	{"cgroup/getpeername4", "cgroup_sock_addr", "cgroup_inet4_getpeername", false},
	{"cgroup/getpeername6", "cgroup_sock_addr", "cgroup_inet6_getpeername", false},
	{"cgroup/getpeername_unix", "cgroup_sock_addr", "cgroup_unix_getpeername", false},
	{"cgroup/getsockname4", "cgroup_sock_addr", "cgroup_inet4_getsockname", false},
	{"cgroup/getsockname6", "cgroup_sock_addr", "cgroup_inet6_getsockname", false},
	{"cgroup/getsockname_unix", "cgroup_sock_addr", "cgroup_unix_getsockname", false},
	{"cgroup/sysctl", "cgroup_sysctl", "cgroup_sysctl", false},
	{"cgroup/getsockopt", "cgroup_sockopt", "cgroup_getsockopt", false},
	{"cgroup/setsockopt", "cgroup_sockopt", "cgroup_setsockopt", false},
	{"cgroup/dev", "cgroup_device", "cgroup_device", false},
	{"struct_ops.s", "struct_ops", "", true},
	{"struct_ops", "struct_ops", "", true},
	{"sk_lookup", "sk_lookup", "sk_lookup", false},
	{"netfilter", "netfilter", "netfilter", false},
}

// sectionProgType derives a program's type, attach type and attach target
// from its section name; ok is false for names no loader knows.
func sectionProgType(section string) (prog, attach, target string, ok bool) {
	for _, d := range progSections {
		if section == d.prefix {
			return d.prog, d.attach, "", true
		}
		if rest, found := strings.CutPrefix(section, d.prefix+"/"); found {
			if d.target {
				target = rest
			}
			return d.prog, d.attach, target, true
		}
	}
	return "", "", "", false
}

// ProgramSection resolves a section name as libbpf does, to the program
// type and expected attach type it implies. It takes a whole section name
// ("kprobe/do_sys_open") or its leading word ("kprobe"), and a libbpf
// program type name ("sched_cls") too, as bpftool's `prog load ... type`
// does.
func ProgramSection(section string) (ebpf.ProgramType, ebpf.AttachType, bool) {
	prog, attach, _, ok := sectionProgType(section)
	if !ok {
		pt, known := objects.ProgTypeByName(section)
		return pt, ebpf.AttachNone, known
	}
	pt, _ := objects.ProgTypeByName(prog)
	at := ebpf.AttachNone
	if attach != "" {
		at, _ = objects.AttachTypeByName(attach)
	}
	return pt, at, true
}

// SectionNames lists the section names (and prefixes) libbpf knows.
func SectionNames() []string {
	out := make([]string, len(progSections))
	for i, d := range progSections {
		out[i] = d.prefix
	}
	return out
}

// isReturnProbe reports whether a section holds return probes.
func isReturnProbe(section string) bool {
	for _, p := range []string{"kretprobe", "uretprobe", "kretsyscall"} {
		if section == p || strings.HasPrefix(section, p+"/") || strings.HasPrefix(section, p+".") {
			return true
		}
	}
	return false
}
