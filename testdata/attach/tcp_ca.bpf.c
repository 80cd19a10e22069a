/* tcp_ca.bpf.c: a TCP congestion control in struct_ops, as small as the
 * kernel takes one, for struct_ops register, show, dump and unregister.
 * The kernel's struct tcp_congestion_ops is matched by member name. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct sock;

struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	char name[16];
};

SEC("struct_ops/i10_ssthresh")
__u32 i10_ssthresh(unsigned long long *ctx)
{
	return 2;
}

SEC("struct_ops/i10_cong_avoid")
void i10_cong_avoid(unsigned long long *ctx)
{
}

SEC("struct_ops/i10_undo_cwnd")
__u32 i10_undo_cwnd(unsigned long long *ctx)
{
	return 2;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops i10_ca = {
	.ssthresh = (void *)i10_ssthresh,
	.cong_avoid = (void *)i10_cong_avoid,
	.undo_cwnd = (void *)i10_undo_cwnd,
	.name = "i10_ca",
};
