/* sock.bpf.c: the programs `prog attach` takes: a message verdict and a
 * stream parser and verdict for a sockmap, and a flow dissector. Each
 * lets everything through. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} socks SEC(".maps");

SEC("sk_msg")
int msg_pass(struct sk_msg_md *msg)
{
	return SK_PASS;
}

SEC("sk_skb/stream_parser")
int stream_len(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("sk_skb/stream_verdict")
int stream_pass(struct __sk_buff *skb)
{
	return SK_PASS;
}

SEC("flow_dissector")
int dissect_none(struct __sk_buff *skb)
{
	return BPF_OK;
}
