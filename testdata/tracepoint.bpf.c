/* tracepoint.bpf.c: tracepoints by category/name, a hash map, bpf_printk
 * and a read-only global. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load; lives in .rodata. */
const volatile __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} openat_count SEC(".maps");

/* The fields of syscalls/sys_enter_openat after the common header. */
struct openat_args {
	__u64 common;
	__s64 syscall_nr;
	__u64 dfd;
	const char *filename;
	__u64 flags;
	__u64 mode;
};

SEC("tracepoint/syscalls/sys_enter_openat")
int count_openat(struct openat_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *n;

	if (target_pid && pid != target_pid)
		return 0;
	n = bpf_map_lookup_elem(&openat_count, &pid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&openat_count, &pid, &one, BPF_NOEXIST);
	return 0;
}

SEC("tp/sched/sched_process_exec")
int log_exec(void *ctx)
{
	bpf_printk("exec by pid %d", (int)(bpf_get_current_pid_tgid() >> 32));
	return 0;
}
