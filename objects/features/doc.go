// Package features holds what the running kernel can do with BPF, as
// `bpftool feature probe` reports it: the BPF sysctls and kernel config
// options, whether the bpf() syscall exists, which program and map types
// load, which helpers each program type may call, and the misc features
// (large programs, bounded loops, ISA extensions). It asks cilium/ebpf's
// features package wherever that has a probe, and probes the rest itself;
// probes run concurrently.
//
// It also holds what bpftool's `feature list_builtins` lists: the names
// that bpfkit knows for program, map, attach and link types and helpers.
//
// It returns data and never prints, never decides a format, never exits.
// Probing as an unprivileged user runs in a child process (see
// StartUnprivileged), which is the caller's to start.
package features
