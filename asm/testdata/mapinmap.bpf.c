// SPDX-License-Identifier: GPL-2.0
// Test program for bpfkit's assembler: maps of maps. An array of maps whose
// two slots are filled at load time with two inner arrays (the .maps
// relocations of a statically initialised map), and a hash of maps whose
// inner map is only a template (an inline struct, no map of its own).
// Built by `make` in this directory (see Makefile); the objects are
// committed.
#include "../../testdata/bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

struct slot {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct slot slot_a SEC(".maps");
struct slot slot_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct slot);
} slots SEC(".maps") = {
	.values = { &slot_a, &slot_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 64);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__uint(max_entries, 128);
		__type(key, __u64);
		__type(value, __u32);
	});
} by_ifindex SEC(".maps");

SEC("socket")
int count_len(struct __sk_buff *skb)
{
	__u32 which = skb->len & 1, key = 0, ifindex = skb->ifindex;
	__u64 cookie = skb->len;
	__u32 *seen;
	__u64 *v;
	void *inner;

	inner = bpf_map_lookup_elem(&slots, &which);
	if (!inner)
		return 0;
	v = bpf_map_lookup_elem(inner, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	inner = bpf_map_lookup_elem(&by_ifindex, &ifindex);
	if (!inner)
		return 0;
	seen = bpf_map_lookup_elem(inner, &cookie);
	return seen ? *seen : 0;
}
