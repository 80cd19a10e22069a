/* btfkinds.bpf.c: types that exercise every BTF kind clang 14 emits and
 * the C header dumper's hard cases: decl and type tags, floats, static,
 * global and extern functions, extern (kconfig) variables, bitfields, a
 * packed struct, anonymous unions and enums, function pointers, a
 * forward-declared struct, flexible arrays and a struct cycle. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user __attribute__((btf_type_tag("user")))

struct opaque;			/* never defined: a FWD */

struct node {
	struct node *next;
	struct peer *peer;	/* a cycle through a pointer */
	struct opaque *hidden;
	void (*visit)(struct node *, int);
	int (*table[4])(const char *, ...);
};

struct peer {
	struct node head;
	unsigned int flags: 3;
	unsigned int mode: 5;
	int level: 12;
	unsigned long long wide: 40;
	union {
		__u32 word;
		__u8 bytes[4];
	};
	enum { PEER_A = 1, PEER_B = 2 } kind;
	double weight;
	float ratio;
	char name[0];
} __tag("peer");

struct wire {
	__u8 type;
	__u32 len;
	__u16 port;
} __attribute__((packed));

typedef struct {
	int x __tag("x-coord");
	int y;
} point_t;

typedef int (*handler_t)(struct wire *w, point_t *p);

struct holder {
	point_t where;
	handler_t handle;
	const volatile struct wire *const frames[2];
	int __user *uptr;
	char pad __attribute__((aligned(16)));
};

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

struct peer peers[2];
struct holder holders[1];
struct wire wires[1];
float gain = 1.5f;

static __noinline int scale(int v __tag("value")) __tag("helper")
{
	return v * 2 + sizeof(gain);
}

__noinline int global_sum(struct holder *h)
{
	if (!h)
		return 0;
	return h->where.x + h->where.y;
}

SEC("socket")
int btfkinds(void *ctx)
{
	return scale(peers[0].level) + global_sum(&holders[0]) + wires[0].len +
	       (int)LINUX_KERNEL_VERSION;
}
