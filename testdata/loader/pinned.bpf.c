/* A map shared through LIBBPF_PIN_BY_NAME, a raw tracepoint, an iterator
 * and a socket filter (which bpfkit run skips). */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfkit_shared SEC(".maps");

__u64 hits = 0;

SEC("raw_tracepoint/sys_enter")
int raw_sys_enter(void *ctx)
{
	__u32 key = 1;
	__u64 one = 1, *v;

	__sync_fetch_and_add(&hits, 1);
	v = bpf_map_lookup_elem(&bpfkit_shared, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&bpfkit_shared, &key, &one, BPF_ANY);
	return 0;
}

struct seq_file;
struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};

SEC("iter/bpf_map")
int iter_maps(struct bpf_iter__bpf_map *ctx)
{
	static const char fmt[] = "map\n";

	if (ctx->map)
		bpf_seq_write(ctx->meta->seq, fmt, sizeof(fmt) - 1);
	return 0;
}

SEC("socket")
int sock_all(void *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
