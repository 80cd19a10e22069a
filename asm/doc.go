// Package asm turns BPF instructions into text: the kernel's (and bpftool's)
// disassembly grammar for translated and ELF code, DOT control-flow graphs,
// JIT image disassembly, and the hand-written demo program.
//
// Import cilium/ebpf's asm package as ebpfasm next to this one.
package asm
