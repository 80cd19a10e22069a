/* xdp.bpf.c: an XDP program with BPF-to-BPF calls, a bounded loop, an LPM
 * trie of blocked prefixes and a tail call through a program array. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

struct ipv4_lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipv4_lpm_key);
	__type(value, __u32);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

/* Packets seen, in .data. */
__u64 packets = 1;

struct ethhdr {
	__u8 h_dest[6];
	__u8 h_source[6];
	__be16 h_proto;
};

struct iphdr {
	__u8 ihl_version;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__be32 saddr;
	__be32 daddr;
};

static __noinline __u32 checksum_words(struct iphdr *ip, void *data_end)
{
	__u16 *p = (void *)ip;
	__u32 sum = 0;
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < 10; i++) {
		if ((void *)(p + i + 1) > data_end)
			break;
		sum += p[i];
	}
	return sum;
}

static __noinline int is_blocked(__u32 saddr)
{
	struct ipv4_lpm_key key = { .prefixlen = 32, .addr = saddr };

	return bpf_map_lookup_elem(&blocked, &key) != 0;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	__sync_fetch_and_add(&packets, 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != 0x0008) /* ETH_P_IP, big-endian */
		return XDP_PASS;
	if (is_blocked(ip->saddr))
		return XDP_DROP;
	if (checksum_words(ip, data_end) == 0)
		bpf_tail_call(ctx, &jump_table, 0);
	return XDP_PASS;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
