// SPDX-License-Identifier: GPL-2.0
// Test program for bpfkit's disassembler: line info, global data in .bss,
// .data and .rodata, a map, a subprogram, a bpf_loop callback and kfuncs.
// Built by `make` in this directory (see Makefile); the object is committed.
typedef unsigned int __u32;
typedef unsigned long long __u64;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __ksym __attribute__((section(".ksyms")))

struct __sk_buff {
	__u32 len;
};

struct {
	__uint(type, 2); /* BPF_MAP_TYPE_ARRAY */
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

volatile __u64 counter;           /* .bss */
volatile __u32 factor = 3;        /* .data */
const volatile __u32 limit = 100; /* .rodata */

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_loop)(__u32 nr, void *cb, void *ctx, __u64 flags) = (void *)181;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

static __attribute__((noinline)) int helper_sub(int x)
{
	return x * factor + counter;
}

static long loop_cb(__u32 index, void *ctx)
{
	counter += index;
	return 0;
}

SEC("socket")
int lines_prog(struct __sk_buff *skb)
{
	__u32 key = skb->len & 7;
	__u64 *v;

	bpf_rcu_read_lock();
	v = bpf_map_lookup_elem(&stats, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	bpf_rcu_read_unlock();
	if (skb->len > limit)
		return 0;
	bpf_loop(4, loop_cb, 0, 0);
	return helper_sub(skb->len);
}

SEC("socket")
int second_prog(struct __sk_buff *skb)
{
	return skb->len > 64 ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
