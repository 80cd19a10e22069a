/* Network hooks: XDP and tcx programs for --iface, cgroup_skb programs for
 * --cgroup. All of them let every packet through and count it. */
#include "common.h"

__u64 xdp_packets = 0;
__u64 tc_packets = 0;
__u64 cg_packets = 0;

SEC("xdp")
int xdp_pass_all(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&xdp_packets, 1);
	return XDP_PASS;
}

SEC("tc/ingress")
int tc_ingress_pass(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tc_packets, 1);
	return 0; /* TC_ACT_OK */
}

SEC("cgroup_skb/ingress")
int cgroup_ingress_pass(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&cg_packets, 1);
	return 1;
}

SEC("cgroup_skb/egress")
int cgroup_egress_pass(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&cg_packets, 1);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
