/* cgroup.bpf.c: cgroup skb programs with a per-CPU hash and maps of maps
 * (an array of maps and a hash of maps, each with a declared inner map). */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} cookies SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner_counter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} per_direction SEC(".maps") = {
	.values = { [0] = &inner_counter },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 16);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 8);
		__type(key, __u32);
		__type(value, __u32);
	});
} per_ifindex SEC(".maps");

static __always_inline void count(__u32 dir)
{
	void *inner = bpf_map_lookup_elem(&per_direction, &dir);
	__u32 zero = 0;
	__u64 *v;

	if (!inner)
		return;
	v = bpf_map_lookup_elem(inner, &zero);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	__u64 one = 1;

	count(0);
	bpf_map_update_elem(&cookies, &cookie, &one, BPF_ANY);
	return 1;
}

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;

	count(1);
	if (bpf_map_lookup_elem(&per_ifindex, &ifindex))
		return 1;
	return 1;
}
