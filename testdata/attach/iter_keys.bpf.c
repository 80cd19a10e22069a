/* iter_keys.bpf.c: a bpf_map_elem iterator that writes the 4-byte keys
 * of the map it is pinned with (iter pin OBJ PATH map MAP), in decimal. */
#include "iter.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/bpf_map_elem")
int i10_iter_keys(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	static const char fmt[] = "key %u\n";
	__u32 *key = ctx->key;
	__u64 args[1];

	if (!key)
		return 0;
	args[0] = *key;
	bpf_seq_printf(seq, fmt, sizeof(fmt), args, sizeof(args));
	return 0;
}
