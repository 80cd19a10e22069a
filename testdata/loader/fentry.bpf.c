/* fentry and fexit on do_sys_openat2, sending ring buffer records filtered
 * by targ_pid. Kernels without BPF trampolines refuse to load it. */
#include "common.h"
#include <bpf/bpf_tracing.h>

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} fevents SEC(".maps");

static int emit(__u32 kind)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (targ_pid && pid != targ_pid)
		return 0;
	e = bpf_ringbuf_reserve(&fevents, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->kind = kind;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/do_sys_openat2")
int BPF_PROG(fentry_openat2, int dfd, const char *filename)
{
	return emit(4);
}

SEC("fexit/do_sys_openat2")
int BPF_PROG(fexit_openat2, int dfd, const char *filename, void *how, long ret)
{
	return emit(5);
}

char LICENSE[] SEC("license") = "GPL";
