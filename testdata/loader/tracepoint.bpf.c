/* A tracepoint on openat that sends one ring buffer record per call, filtered
 * by targ_pid (0 = every process), and prints a bpf_printk line. */
#include "common.h"

struct trace_event_raw_sys_enter {
	__u64 unused;
	long id;
	unsigned long args[6];
};

const volatile __u32 targ_pid = 0;
const volatile char tag[8] = "tp";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} openat_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} openat_calls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 zero = 0;
	__u64 *n;
	struct event *e;

	if (targ_pid && pid != targ_pid)
		return 0;
	n = bpf_map_lookup_elem(&openat_calls, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	e = bpf_ringbuf_reserve(&openat_events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->kind = 1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->data, sizeof(e->data), (const char *)ctx->args[1]);
	bpf_ringbuf_submit(e, 0);
	bpf_printk("bpfkit-tp openat pid=%d", pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
