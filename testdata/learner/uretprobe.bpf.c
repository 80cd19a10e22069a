// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* The learner's uretprobe, in the shape of cilium/ebpf's
 * examples/uretprobe: the line each readline() call returns, as a perf
 * record built on the stack. Its section names the binary, ./readline
 * (built from readline.c beside this file), relative to where bpfkit
 * runs; cilium/ebpf's example names none and attaches from Go. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char __license[] SEC("license") = "Dual MIT/GPL";

struct event {
	u32 pid;
	u8 line[80];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
} events SEC(".maps");

SEC("uretprobe/./readline:readline")
int uretprobe_readline(struct pt_regs *ctx) {
	struct event event;

	event.pid = bpf_get_current_pid_tgid();
	bpf_probe_read(&event.line, sizeof(event.line), (void *)PT_REGS_RC(ctx));

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));

	return 0;
}
