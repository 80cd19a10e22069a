/* core.bpf.c: CO-RE relocations of every kind BTFgen handles, against
 * kernel types declared here only as far as they are used: field offsets
 * through pointers, arrays and the kernel's anonymous unions (sk_buff's
 * dev), field existence, sizes and bitfields, type existence and size,
 * enum values. A tracepoint program: it loads without being attached. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
	struct task_struct *real_parent;
	int i12_no_such_field;
} __attribute__((preserve_access_index));

struct net_device {
	int ifindex;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned int len;
	struct net_device *dev;
	__u8 cloned : 1;
} __attribute__((preserve_access_index));

enum bpf_map_type___local {
	BPF_MAP_TYPE_RINGBUF___local = 27,
	BPF_MAP_TYPE_I12_NONE___local = 999,
};

struct i12_no_such_struct {
	int x;
};

struct result {
	__u32 pid, ppid, ifindex, len;
	__u64 task_size, has_pid, has_missing_field, has_missing_struct;
	__u64 ringbuf, has_none, cloned, comm0;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct result);
} results SEC(".maps");

/* Relocation kinds (enum bpf_field_info_kind, enum bpf_type_info_kind,
 * enum bpf_enum_value_kind). */
#define FIELD_EXISTS 2
#define FIELD_LSHIFT 4
#define TYPE_EXISTS 0
#define TYPE_SIZE 1
#define ENUMVAL_EXISTS 0
#define ENUMVAL_VALUE 1

SEC("tracepoint/syscalls/sys_enter_openat")
int core_reads(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct task_struct *parent = 0;
	struct sk_buff *skb = 0;
	struct net_device *dev = 0;
	struct result *r;
	__u32 zero = 0;
	char c = 0;

	r = bpf_map_lookup_elem(&results, &zero);
	if (!r)
		return 0;
	BPF_CORE_READ_INTO(&r->pid, task, pid);
	BPF_CORE_READ_INTO(&parent, task, real_parent);
	BPF_CORE_READ_INTO(&r->ppid, parent, tgid);
	BPF_CORE_READ_INTO(&c, task, comm[0]);
	r->comm0 = c;
	BPF_CORE_READ_INTO(&dev, skb, dev);
	BPF_CORE_READ_INTO(&r->ifindex, dev, ifindex);
	BPF_CORE_READ_INTO(&r->len, skb, len);
	r->cloned = __builtin_preserve_field_info(skb->cloned, FIELD_LSHIFT);
	r->has_pid = __builtin_preserve_field_info(task->pid, FIELD_EXISTS);
	r->has_missing_field = __builtin_preserve_field_info(task->i12_no_such_field, FIELD_EXISTS);
	r->task_size = __builtin_preserve_type_info(*task, TYPE_SIZE);
	r->has_missing_struct = __builtin_preserve_type_info(*(struct i12_no_such_struct *)0, TYPE_EXISTS);
	r->ringbuf = __builtin_preserve_enum_value(*(enum bpf_map_type___local *)BPF_MAP_TYPE_RINGBUF___local, ENUMVAL_VALUE);
	r->has_none = __builtin_preserve_enum_value(*(enum bpf_map_type___local *)BPF_MAP_TYPE_I12_NONE___local, ENUMVAL_EXISTS);
	return 0;
}
