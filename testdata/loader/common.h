/* Minimal declarations shared by the loader test programs. */
#ifndef BPFKIT_LOADER_COMMON_H
#define BPFKIT_LOADER_COMMON_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* event is the record every test program sends to user space. */
struct event {
	__u32 pid;
	__u32 kind;
	char comm[16];
	char data[32];
};

#endif
