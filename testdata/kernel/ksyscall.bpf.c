/* ksyscall and kretsyscall on unlinkat: the path each unlinkat of targ_pid
 * passes, to a ring buffer. Kernels without kprobes cannot attach it. */
#include "kernel.h"
#define __TARGET_ARCH_x86
#include <asm/ptrace.h>
#include <bpf/bpf_tracing.h>

/* Puts struct event into the object's BTF (locals are not described
 * there), so that bpfkit run can name the records' type. */
struct event *unused_event __attribute__((unused));

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} vmt_ks_events SEC(".maps");

static int emit(__u32 kind, const char *user_path)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (targ_pid && pid != targ_pid)
		return 0;
	e = bpf_ringbuf_reserve(&vmt_ks_events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->kind = kind;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (user_path)
		bpf_probe_read_user_str(e->data, sizeof(e->data), user_path);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* x86-64's syscall entry points (__x64_sys_unlinkat) take the user's
 * registers; the path is the syscall's second argument there. */
SEC("ksyscall/unlinkat")
int vmt_ks_unlink(struct pt_regs *ctx)
{
	struct pt_regs *user = (struct pt_regs *)PT_REGS_PARM1(ctx);
	const char *path = 0;

	bpf_probe_read_kernel(&path, sizeof(path), &user->rsi);
	return emit(7, path);
}

SEC("kretsyscall/unlinkat")
int vmt_kret_unlink(struct pt_regs *ctx)
{
	return emit(8, 0);
}

char LICENSE[] SEC("license") = "GPL";
