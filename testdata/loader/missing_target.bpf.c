/* Attach points that do not exist: run must say which one is missing. */
#include "common.h"

SEC("tracepoint/bpfkit/no_such_event")
int missing_tracepoint(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint/bpfkit_no_such_tracepoint")
int missing_raw_tracepoint(void *ctx)
{
	return 0;
}

SEC("uprobe//bin/true:bpfkit_no_such_symbol")
int missing_symbol(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
