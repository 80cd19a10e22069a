// Package attachments holds where BPF programs run outside bpf(2)'s own
// object lists: the network hooks of each device (XDP and tc through
// netlink, tcx and netkit through BPF_PROG_QUERY), the flow dissector of
// the network namespace, netfilter links, the programs attached to
// cgroups (legacy attachments and links), the perf events and raw
// tracepoints that processes hold (BPF_TASK_FD_QUERY over /proc/*/fd, and
// perf_event links), and the verbs that attach and detach programs there:
// `net attach|detach`, `cgroup attach|detach`, `prog attach|detach` (maps
// of sockets and the flow dissector) and `iter pin`.
//
// It returns plain data (NetAttachments, CgroupProgram, PerfAttachment)
// and never prints, never exits and never decides an output format;
// internal/render does that. Netlink goes through
// github.com/vishvananda/netlink; the bpf(2) calls cilium/ebpf lacks are in
// objects/sys.go. A verb that fails half-way undoes what it did.
package attachments
