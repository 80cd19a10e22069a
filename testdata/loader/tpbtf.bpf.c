/* A BTF-enabled tracepoint on sched_process_exec that sends a ring buffer
 * record for every exec whose pid passes targ_pid (0 = every process). */
#include "common.h"

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} exec_events SEC(".maps");

SEC("tp_btf/sched_process_exec")
int tpbtf_exec(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (targ_pid && pid != targ_pid)
		return 0;
	e = bpf_ringbuf_reserve(&exec_events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->kind = 6;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
