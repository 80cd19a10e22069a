/* A kprobe and a kretprobe on do_sys_openat2 that send records to a perf
 * event array, filtered by targ_pid. */
#include "common.h"

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} kp_events SEC(".maps");

static int emit(void *ctx, __u32 kind)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event e = {};

	if (targ_pid && pid != targ_pid)
		return 0;
	e.pid = pid;
	e.kind = kind;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_perf_event_output(ctx, &kp_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("kprobe/do_sys_openat2")
int kprobe_openat2(void *ctx)
{
	return emit(ctx, 2);
}

SEC("kretprobe/do_sys_openat2")
int kretprobe_openat2(void *ctx)
{
	bpf_printk("bpfkit-kretprobe done");
	return emit(ctx, 3);
}

char LICENSE[] SEC("license") = "GPL";
