/* The tracepoint on openat again, sending its records through a perf
 * event array instead of a ring buffer, filtered by targ_pid. */
#include "common.h"

/* Puts struct event into the object's BTF (locals are not described
 * there), so that bpfkit run can name the records' type. */
struct event *unused_event __attribute__((unused));

struct trace_event_raw_sys_enter {
	__u64 unused;
	long id;
	unsigned long args[6];
};

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_openat SEC(".maps");

SEC("tp/syscalls/sys_enter_openat")
int perf_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event e = {};

	if (targ_pid && pid != targ_pid)
		return 0;
	e.pid = pid;
	e.kind = 7;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_probe_read_user_str(e.data, sizeof(e.data), (const char *)ctx->args[1]);
	bpf_perf_event_output(ctx, &perf_openat, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
