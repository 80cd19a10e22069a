/* Issue 17, item 1: an object whose records wait before bpfkit run starts
 * reading them. One raw tracepoint on sys_enter feeds two perf event
 * arrays and two ring buffers, and counts in a map pinned by name, so that
 * a run that crashed would leave the pin behind. Every name starts with
 * i17_ so that tests count only these objects. */
#include "common.h"

struct i17_event {
	__u32 pid;
	__u32 source;
	__u64 syscall;
};

/* Puts struct i17_event into the object's BTF. */
struct i17_event *unused_i17_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} i17_perf_a SEC(".maps"), i17_perf_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} i17_ring_a SEC(".maps"), i17_ring_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} i17_ev_pinned SEC(".maps");

struct bpf_raw_tracepoint_args;

SEC("raw_tp/sys_enter")
int i17_ev_emit(__u64 *ctx)
{
	struct i17_event e = {};
	__u32 key = 0;
	__u64 one = 1, *n;

	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.syscall = ctx[1];
	e.source = 1;
	bpf_perf_event_output(ctx, &i17_perf_a, BPF_F_CURRENT_CPU, &e, sizeof(e));
	e.source = 2;
	bpf_perf_event_output(ctx, &i17_perf_b, BPF_F_CURRENT_CPU, &e, sizeof(e));
	e.source = 3;
	bpf_ringbuf_output(&i17_ring_a, &e, sizeof(e), 0);
	e.source = 4;
	bpf_ringbuf_output(&i17_ring_b, &e, sizeof(e), 0);
	n = bpf_map_lookup_elem(&i17_ev_pinned, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&i17_ev_pinned, &key, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
