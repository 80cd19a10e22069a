/* An LSM hook that allows everything and counts file opens. */
#include "common.h"
#include <bpf/bpf_tracing.h>

__u64 opens = 0;

SEC("lsm/file_open")
int BPF_PROG(lsm_file_open, void *file)
{
	__sync_fetch_and_add(&opens, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
