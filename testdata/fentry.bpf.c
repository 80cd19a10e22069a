/* fentry.bpf.c: fentry and fexit on a kernel function (BTF-attached
 * tracing programs), with an LRU per-CPU hash and a .bss counter. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

__u64 calls;	/* .bss */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

SEC("fentry/do_unlinkat")
int fentry_unlinkat(unsigned long long *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 ts = bpf_ktime_get_ns();

	__sync_fetch_and_add(&calls, 1);
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("fexit/do_unlinkat")
int fexit_unlinkat(unsigned long long *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 *ts = bpf_map_lookup_elem(&start, &pid);

	if (ts) {
		bpf_printk("unlinkat took %llu ns, returned %lld", bpf_ktime_get_ns() - *ts, (long long)ctx[2]);
		bpf_map_delete_elem(&start, &pid);
	}
	return 0;
}
