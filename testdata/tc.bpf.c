/* tc.bpf.c: a tc classifier with globals in .rodata, .data and .bss,
 * a perf event array, and a queue and a stack. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

struct config {
	__u32 mark;
	__u16 min_len;
	__u8 enabled;
};

const volatile struct config cfg = { .mark = 0x42, .min_len = 64, .enabled = 1 };
const char greeting[8] = "bpfkit";
int drop_verdict = TC_ACT_SHOT;	/* .data */
__u32 seen[4];			/* .bss */

struct sample {
	__u32 len;
	__u32 mark;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 64);
	__type(value, __u32);
} lengths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 64);
	__type(value, __u32);
} marks SEC(".maps");

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	struct sample s = { .len = skb->len, .mark = skb->mark };
	__u32 old;

	if (!cfg.enabled)
		return TC_ACT_OK;
	seen[skb->len & 3]++;
	bpf_map_push_elem(&lengths, &s.len, 0);
	if (skb->mark == cfg.mark) {
		bpf_map_push_elem(&marks, &s.mark, 0);
		bpf_perf_event_output(skb, &samples, BPF_F_CURRENT_CPU, &s, sizeof(s));
	}
	if (skb->len < cfg.min_len && bpf_map_pop_elem(&lengths, &old) == 0)
		return drop_verdict;
	return TC_ACT_OK;
}
