/* A program in a section libbpf does not know: loading needs `type TYPE`. */
#include "common.h"

SEC("bpfkit_custom/filter")
int custom_filter(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
