/* A CO-RE relocation the kernel cannot satisfy: task_struct has no field
 * named bpfkit_no_such_field. */
#include "common.h"
#include <bpf/bpf_core_read.h>

struct task_struct {
	int bpfkit_no_such_field;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} core_out SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int core_missing_field(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u32 zero = 0;
	__u64 v = BPF_CORE_READ(t, bpfkit_no_such_field);

	bpf_map_update_elem(&core_out, &zero, &v, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
