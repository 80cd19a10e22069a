/* Rejected by the verifier on purpose: the map value is used without the
 * NULL check. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bad_counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int bad_no_null_check(void *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&bad_counts, &zero);

	*n += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
