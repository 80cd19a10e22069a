/* A uprobe on libc's getpid, given as binary:symbol in the section name. */
#include "common.h"

__u64 getpid_calls = 0;

SEC("uprobe//lib/x86_64-linux-gnu/libc.so.6:getpid")
int uprobe_getpid(void *ctx)
{
	__sync_fetch_and_add(&getpid_calls, 1);
	return 0;
}

SEC("uretprobe//lib/x86_64-linux-gnu/libc.so.6:getpid")
int uretprobe_getpid(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
