/* The tutorial's uretprobe section, which names no binary: run can attach
 * nothing and must say so at once. */
#include "common.h"

SEC("uretprobe/bash_readline")
int uretprobe_bash_readline(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
