/* Issue 17, item 2: programs the verifier takes a long time over (each
 * loop iteration is a new state, so nothing is pruned), so that a test can
 * send a signal while bpfkit waits for the kernel. Each program walks about
 * 700,000 instructions, below the verifier's limit of a million. The map
 * pinned by name is created before the programs are verified: a load
 * stopped half-way must remove it. Every name starts with i17_. */
#include "common.h"

#ifndef I17_ROUNDS
#define I17_ROUNDS 90000
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} i17_slow_pin SEC(".maps");

static __always_inline __u64 i17_churn(__u64 acc)
{
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < I17_ROUNDS; i++) {
		acc = (acc ^ i) * 3 + (acc >> 7);
	}
	return acc;
}

static __always_inline int i17_store(__u64 acc)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&i17_slow_pin, &key);

	if (v)
		*v = acc;
	return 0;
}

SEC("raw_tp/sys_enter")
int i17_slow_a(__u64 *ctx)
{
	return i17_store(i17_churn(ctx[1]));
}

SEC("raw_tp/sys_enter")
int i17_slow_b(__u64 *ctx)
{
	return i17_store(i17_churn(ctx[1] + 1));
}

SEC("raw_tp/sys_enter")
int i17_slow_c(__u64 *ctx)
{
	return i17_store(i17_churn(ctx[1] + 2));
}

char LICENSE[] SEC("license") = "GPL";
