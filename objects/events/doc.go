// Package events reads what BPF programs send to user space: records of
// perf event arrays and ring buffers through one Reader and one Record
// type, and the lines of the kernel's trace_pipe (bpf_printk).
//
// The perf reader sets up its rings as bpftool's event_pipe does (a
// BPF_OUTPUT event per CPU, stored at any index) and keeps the kernel's
// timestamps. The package never prints.
package events
