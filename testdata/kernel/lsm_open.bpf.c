/* An LSM hook on file_open: records the name of each file targ_pid opens
 * and refuses (EPERM) to let targ_pid open a file named vmt_lsm_denied.
 * Needs the BPF LSM (lsm=...,bpf) and BPF trampolines. */
#include "kernel.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1

/* The kernel's types, as far as this program reads them; CO-RE
 * relocations find the fields' offsets in the running kernel. */
struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct path {
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
} __attribute__((preserve_access_index));

/* Puts struct event into the object's BTF (locals are not described
 * there), so that bpfkit run can name the records' type. */
struct event *unused_event __attribute__((unused));

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} vmt_lsm_events SEC(".maps");

static const char denied[] = "vmt_lsm_denied";

SEC("lsm/file_open")
int BPF_PROG(vmt_lsm_open, struct file *file)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	const unsigned char *name;
	struct event *e;
	int i, deny = 1;

	if (!targ_pid || pid != targ_pid)
		return 0;
	e = bpf_ringbuf_reserve(&vmt_lsm_events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->kind = 14;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(e->data, sizeof(e->data), name);
	for (i = 0; i < sizeof(denied); i++) {
		if (e->data[i] != denied[i]) {
			deny = 0;
			break;
		}
	}
	bpf_ringbuf_submit(e, 0);
	return deny ? -EPERM : 0;
}

char LICENSE[] SEC("license") = "GPL";
