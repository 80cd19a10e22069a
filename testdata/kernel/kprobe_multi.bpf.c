/* kprobe.multi and kretprobe.multi on a pattern matching do_unlinkat,
 * sending records filtered by targ_pid to a ring buffer. Needs fprobe
 * (CONFIG_FPROBE), which Debian 12's 6.1 lacks and its 6.12 has. */
#include "kernel.h"

/* Puts struct event into the object's BTF (locals are not described
 * there), so that bpfkit run can name the records' type. */
struct event *unused_event __attribute__((unused));

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} vmt_km_events SEC(".maps");

static int emit(__u32 kind)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (targ_pid && pid != targ_pid)
		return 0;
	e = bpf_ringbuf_reserve(&vmt_km_events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->kind = kind;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe.multi/do_unlinka?")
int vmt_km_unlink(void *ctx)
{
	return emit(11);
}

SEC("kretprobe.multi/do_unlinka?")
int vmt_kmr_unlink(void *ctx)
{
	return emit(12);
}

char LICENSE[] SEC("license") = "GPL";
