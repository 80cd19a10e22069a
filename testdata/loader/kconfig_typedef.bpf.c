/* LINUX_KERNEL_VERSION declared through a typedef (__u32), as libbpf's
 * users write it: libbpf resolves the typedef, cilium/ebpf v0.22 refuses
 * it, bpfkit's loader resolves it (issue 17). The program returns the
 * version the loader filled in. */
#include "common.h"

extern __u32 LINUX_KERNEL_VERSION __kconfig;

SEC("socket")
int i17b_kconfig(struct __sk_buff *skb)
{
	return LINUX_KERNEL_VERSION;
}

char LICENSE[] SEC("license") = "GPL";
