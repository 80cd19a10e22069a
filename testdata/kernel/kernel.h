/* Declarations shared by the kernel-matrix test programs (as
 * testdata/loader/common.h, whose struct event they send). */
#ifndef BPFKIT_KERNEL_H
#define BPFKIT_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* event is the record the test programs send to user space. */
struct event {
	__u32 pid;
	__u32 kind;
	char comm[16];
	char data[32];
};

#endif
