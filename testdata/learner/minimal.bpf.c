// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The learner's minimal, in the shape of libbpf-bootstrap's minimal.bpf.c:
 * a bpf_printk line for each write(2) of one process, my_pid, which the
 * libbpf skeleton sets through skel->bss and bpfkit through --set. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

int my_pid = 0;

SEC("tp/syscalls/sys_enter_write")
int handle_tp(void *ctx)
{
	int pid = bpf_get_current_pid_tgid() >> 32;

	if (pid != my_pid)
		return 0;

	bpf_printk("BPF triggered from PID %d.\n", pid);

	return 0;
}
