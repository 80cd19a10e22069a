/* iter_maps.bpf.c: a bpf_map iterator that writes one line per map. */
#include "iter.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/bpf_map")
int i10_iter_maps(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	static const char line[] = "map\n";

	if (!ctx->map)
		return 0;
	bpf_seq_write(seq, (void *)line, sizeof(line) - 1);
	return 0;
}
