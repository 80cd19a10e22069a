/* A uprobe and a uretprobe on vmt_sum of the test program
 * uprobe_target.c, built as vmt_uprobe_target and found on PATH: each
 * call's arguments and result go to a perf event array. */
#include "kernel.h"
#define __TARGET_ARCH_x86
#include <asm/ptrace.h>
#include <bpf/bpf_tracing.h>

struct call {
	__u32 pid;
	__u32 kind;
	__s64 a;
	__s64 b;
	__s64 ret;
	char comm[16];
};

/* Puts struct call into the object's BTF (locals are not described
 * there), so that bpfkit run can name the records' type. */
struct call *unused_call __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} vmt_sum_events SEC(".maps");

static int emit(void *ctx, __u32 kind, __s64 a, __s64 b, __s64 ret)
{
	struct call c = {};

	c.pid = bpf_get_current_pid_tgid() >> 32;
	c.kind = kind;
	c.a = a;
	c.b = b;
	c.ret = ret;
	bpf_get_current_comm(c.comm, sizeof(c.comm));
	bpf_perf_event_output(ctx, &vmt_sum_events, BPF_F_CURRENT_CPU, &c, sizeof(c));
	return 0;
}

SEC("uprobe/vmt_uprobe_target:vmt_sum")
int BPF_KPROBE(vmt_sum_enter, long a, long b)
{
	return emit(ctx, 9, a, b, 0);
}

SEC("uretprobe/vmt_uprobe_target:vmt_sum")
int BPF_KRETPROBE(vmt_sum_exit, long ret)
{
	return emit(ctx, 10, 0, 0, ret);
}

char LICENSE[] SEC("license") = "GPL";
