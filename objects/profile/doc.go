// Package profile holds what bpftool's `prog profile` measures: hardware
// counters (cycles, instructions, cache and TLB misses) read around each
// run of a loaded program by an fentry and an fexit program attached to
// it, summed over the CPUs. The fentry/fexit pair is assembled here with
// cilium/ebpf's asm, for the metrics asked, so no object file ships with
// bpfkit.
//
// It returns data and never prints, never decides a format. Start needs
// BPF trampolines (fentry/fexit) and hardware perf events.
package profile
