package objects

import (
	"fmt"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// The names below are libbpf's (and so bpftool's): the UAPI enum names,
// lower-cased, without their prefix. Indexes are the UAPI values.

var progTypeNames = []string{
	"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint",
	"xdp", "perf_event", "cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out",
	"lwt_xmit", "sock_ops", "sk_skb", "cgroup_device", "sk_msg",
	"raw_tracepoint", "cgroup_sock_addr", "lwt_seg6local", "lirc_mode2",
	"sk_reuseport", "flow_dissector", "cgroup_sysctl",
	"raw_tracepoint_writable", "cgroup_sockopt", "tracing", "struct_ops", "ext",
	"lsm", "sk_lookup", "syscall", "netfilter",
}

var mapTypeNames = []string{
	"unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash",
	"percpu_array", "stack_trace", "cgroup_array", "lru_hash",
	"lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "devmap",
	"sockmap", "cpumap", "xskmap", "sockhash", "cgroup_storage",
	"reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
	"sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage",
	"task_storage", "bloom_filter", "user_ringbuf", "cgrp_storage", "arena",
	"insn_array", "rhash",
}

var linkTypeNames = []string{
	"unspec", "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp",
	"perf_event", "kprobe_multi", "struct_ops", "netfilter", "tcx",
	"uprobe_multi", "netkit", "sockmap", "tracing_multi",
}

var attachTypeNames = []string{
	"cgroup_inet_ingress", "cgroup_inet_egress", "cgroup_inet_sock_create",
	"cgroup_sock_ops", "sk_skb_stream_parser", "sk_skb_stream_verdict",
	"cgroup_device", "sk_msg_verdict", "cgroup_inet4_bind", "cgroup_inet6_bind",
	"cgroup_inet4_connect", "cgroup_inet6_connect", "cgroup_inet4_post_bind",
	"cgroup_inet6_post_bind", "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg",
	"lirc_mode2", "flow_dissector", "cgroup_sysctl", "cgroup_udp4_recvmsg",
	"cgroup_udp6_recvmsg", "cgroup_getsockopt", "cgroup_setsockopt",
	"trace_raw_tp", "trace_fentry", "trace_fexit", "modify_return", "lsm_mac",
	"trace_iter", "cgroup_inet4_getpeername", "cgroup_inet6_getpeername",
	"cgroup_inet4_getsockname", "cgroup_inet6_getsockname", "xdp_devmap",
	"cgroup_inet_sock_release", "xdp_cpumap", "sk_lookup", "xdp",
	"sk_skb_verdict", "sk_reuseport_select", "sk_reuseport_select_or_migrate",
	"perf_event", "trace_kprobe_multi", "lsm_cgroup", "struct_ops",
	"netfilter", "tcx_ingress", "tcx_egress", "trace_uprobe_multi",
	"cgroup_unix_connect", "cgroup_unix_sendmsg", "cgroup_unix_recvmsg",
	"cgroup_unix_getpeername", "cgroup_unix_getsockname", "netkit_primary",
	"netkit_peer", "trace_kprobe_session", "trace_uprobe_session",
	"trace_fsession", "trace_fentry_multi", "trace_fexit_multi",
	"trace_fsession_multi",
}

// TypeName is a name from one of the tables above, or the decimal value
// when the table does not know it (a newer kernel), as bpftool prints it.
type TypeName struct {
	Name  string
	Value uint32
}

// Known reports whether the value has a name.
func (t TypeName) Known() bool { return t.Name != "" }

// String returns the name, or the value in decimal.
func (t TypeName) String() string {
	if t.Name != "" {
		return t.Name
	}
	return strconv.FormatUint(uint64(t.Value), 10)
}

// MarshalJSON gives bpftool's JSON: a string when the name is known, the
// number otherwise.
func (t TypeName) MarshalJSON() ([]byte, error) {
	if t.Name != "" {
		return strconv.AppendQuote(nil, t.Name), nil
	}
	return strconv.AppendUint(nil, uint64(t.Value), 10), nil
}

func lookupName(table []string, v uint32) TypeName {
	if int(v) < len(table) {
		return TypeName{Name: table[v], Value: v}
	}
	return TypeName{Value: v}
}

func lookupValue(table []string, name string) (uint32, bool) {
	for i, n := range table {
		if n == name {
			return uint32(i), true
		}
	}
	return 0, false
}

// ProgTypeName returns libbpf's name for a program type, e.g. "sched_cls".
func ProgTypeName(t ebpf.ProgramType) TypeName { return lookupName(progTypeNames, uint32(t)) }

// MapTypeName returns libbpf's name for a map type, e.g. "percpu_hash".
func MapTypeName(t ebpf.MapType) TypeName { return lookupName(mapTypeNames, uint32(t)) }

// LinkTypeName returns libbpf's name for a link type, e.g. "perf_event".
func LinkTypeName(t link.Type) TypeName { return lookupName(linkTypeNames, uint32(t)) }

// AttachTypeName returns libbpf's name for an attach type, e.g. "trace_fentry".
func AttachTypeName(t ebpf.AttachType) TypeName { return lookupName(attachTypeNames, uint32(t)) }

// ProgTypeByName is the inverse of ProgTypeName.
func ProgTypeByName(name string) (ebpf.ProgramType, bool) {
	v, ok := lookupValue(progTypeNames, name)
	return ebpf.ProgramType(v), ok
}

// AttachTypeByName is the inverse of AttachTypeName.
func AttachTypeByName(name string) (ebpf.AttachType, bool) {
	v, ok := lookupValue(attachTypeNames, name)
	return ebpf.AttachType(v), ok
}

// MapTypeByName is the inverse of MapTypeName.
func MapTypeByName(name string) (ebpf.MapType, bool) {
	v, ok := lookupValue(mapTypeNames, name)
	return ebpf.MapType(v), ok
}

// TypeNames returns libbpf's names of the program, map, attach or link
// types ("prog_types", "map_types", "attach_types", "link_types"), indexed
// by value, as `feature list_builtins` lists them; nil for another group.
func TypeNames(group string) []string {
	var table []string
	switch group {
	case "prog_types":
		table = progTypeNames
	case "map_types":
		table = mapTypeNames
	case "attach_types":
		table = attachTypeNames
	case "link_types":
		table = linkTypeNames
	default:
		return nil
	}
	return append([]string(nil), table...)
}

// CheckObjectName refuses a program or map name the kernel would refuse
// (bpf_obj_name_cpy): at most 15 characters, each a letter, a digit, '_'
// or '.'. cilium/ebpf would silently strip and cut it instead.
func CheckObjectName(name string) error {
	if len(name) > 15 {
		return fmt.Errorf("name %q is %d bytes long, the kernel takes at most 15", name, len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return fmt.Errorf("name %q: the kernel takes only letters, digits, '_' and '.', not %q", name, r)
		}
	}
	return nil
}
