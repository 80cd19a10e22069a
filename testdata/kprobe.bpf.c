/* kprobe.bpf.c: kprobe and kretprobe on the same function, CO-RE reads of
 * kernel structures, a kconfig extern and an LRU hash. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

/* unsigned int, not __u32: cilium/ebpf wants a plain integer type here. */
extern unsigned int LINUX_KERNEL_VERSION __kconfig;

/* Kernel types, reduced to the fields read here: CO-RE finds them. */
struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct entry {
	__u64 start_ns;
	__u32 ppid;
	__u32 kernel;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct entry);
} inflight SEC(".maps");

SEC("kprobe/do_unlinkat")
int unlink_enter(struct pt_regs *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct task_struct *parent = 0;
	struct entry e = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	BPF_CORE_READ_INTO(&parent, task, real_parent);
	BPF_CORE_READ_INTO(&e.ppid, parent, tgid);
	e.start_ns = bpf_ktime_get_ns();
	e.kernel = LINUX_KERNEL_VERSION;
	if (ctx->di == 0)
		return 0;
	bpf_map_update_elem(&inflight, &tid, &e, BPF_ANY);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int unlink_exit(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct entry *e = bpf_map_lookup_elem(&inflight, &tid);

	if (!e)
		return 0;
	if ((long)ctx->ax < 0)
		bpf_printk("unlink failed after %llu ns", bpf_ktime_get_ns() - e->start_ns);
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}
