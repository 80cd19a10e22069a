/* socket.bpf.c: a socket filter counting bytes per protocol in an
 * array. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

SEC("socket")
int count_bytes(struct __sk_buff *skb)
{
	__u8 proto = 0;
	__u32 key;
	__u64 *v;

	if (bpf_skb_load_bytes(skb, 9, &proto, 1) < 0)
		return 0;
	key = proto;
	v = bpf_map_lookup_elem(&bytes, &key);
	if (v)
		__sync_fetch_and_add(v, skb->len);
	return skb->len;
}
