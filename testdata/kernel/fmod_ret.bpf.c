/* fmod_ret on security_task_getpgid: getpgid(2) of targ_pid fails with
 * ENOTRECOVERABLE while it is attached, and each such call is recorded in
 * a ring buffer. Other processes are left alone. Needs BPF trampolines. */
#include "kernel.h"
#include <bpf/bpf_tracing.h>

#define ENOTRECOVERABLE 131

/* Puts struct event into the object's BTF (locals are not described
 * there), so that bpfkit run can name the records' type. */
struct event *unused_event __attribute__((unused));

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} vmt_fm_events SEC(".maps");

SEC("fmod_ret/security_task_getpgid")
int BPF_PROG(vmt_fmod_pgid, void *task, int ret)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (!targ_pid || pid != targ_pid)
		return 0;
	e = bpf_ringbuf_reserve(&vmt_fm_events, sizeof(*e), 0);
	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		e->pid = pid;
		e->kind = 13;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
	return -ENOTRECOVERABLE;
}

char LICENSE[] SEC("license") = "GPL";
