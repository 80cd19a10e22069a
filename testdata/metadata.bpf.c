/* metadata.bpf.c: a program that says who built it, the way libbpf lets
 * programs do: globals named bpf_metadata_* in .rodata, which bpftool's
 * `prog show` prints under "metadata" (plain `metadata:` lines, JSON
 * "metadata"). A string, an integer and a struct; one more .rodata global
 * without the prefix, which is not metadata. */
#include "bpfkit.h"

char LICENSE[] SEC("license") = "GPL";

struct build {
	__u16 major;
	__u16 minor;
	char tag[6];
	__u8 flags[2];
};

volatile const char bpf_metadata_owner[] SEC(".rodata") = "bpfkit tests";
volatile const int bpf_metadata_revision SEC(".rodata") = -42;
volatile const struct build bpf_metadata_build SEC(".rodata") = {1, 2, "rc1", {3, 4}};
volatile const __u32 limit SEC(".rodata") = 7;

SEC("socket")
int metadata_prog(struct __sk_buff *skb)
{
	/* Reading .rodata makes it one of the program's maps. */
	return bpf_metadata_revision + limit;
}
