/* mapdata.bpf.c: maps and global variables for bpfkit's map dump tests.
 * Self-contained: builds with a bare clang -target bpf. */

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef long long __s64;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

enum {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};
#define BPF_F_CURRENT_CPU 0xffffffffULL

struct __sk_buff {
	__u32 len;
};

static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *)25;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;

enum mode { MODE_OFF, MODE_ON = 5 };

struct flow {
	__u32 saddr;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct stats {
	__u64 packets;
	__u64 bytes;
	char comm[8];
	enum mode mode;
	__u32 small : 4, big : 28;
	union {
		__u32 word;
		__u8 bytes4[4];
	} u;
	_Bool seen;
};

struct event {
	__u32 pid;
	__u32 cpu_hint;
	__u64 value;
	char comm[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct flow);
	__type(value, struct stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __s64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

volatile const __u32 limit = 3;
volatile const char owner[8] = "alice";
__u64 counter = 7;
struct flow last_flow = { 0x0100007f, 80, 6, 0 };
enum mode current_mode = MODE_ON;
__u32 zero_bss;
struct stats bss_stats;
struct event last_event; /* puts struct event into the BTF */

SEC("tc")
int emit(struct __sk_buff *skb)
{
	struct event e = { .pid = 42, .cpu_hint = limit, .value = counter, .comm = "evt" };
	__u32 key = 0;
	__s64 *h;

	bpf_perf_event_output(skb, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	bpf_ringbuf_output(&ring, &e, sizeof(e), 0);
	h = bpf_map_lookup_elem(&hits, &key);
	if (h)
		*h += 1;
	last_event = e;
	counter++;
	zero_bss += skb->len;
	return current_mode;
}

char LICENSE[] SEC("license") = "GPL";
