/* raw_tp.bpf.c: raw tracepoints, both section spellings, and a per-CPU
 * array counted in a bounded loop. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} syscalls SEC(".maps");

SEC("raw_tp/sys_enter")
int on_sys_enter(unsigned long long *ctx)
{
	__u32 key = ctx[1] & 7;
	__u64 *v = bpf_map_lookup_elem(&syscalls, &key);

	if (v)
		*v += 1;
	return 0;
}

SEC("raw_tracepoint/sched_switch")
int on_sched_switch(unsigned long long *ctx)
{
	__u64 sum = 0;
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < 8; i++) {
		__u32 key = i;
		__u64 *v = bpf_map_lookup_elem(&syscalls, &key);

		if (v)
			sum += *v;
	}
	return sum > 0;
}
