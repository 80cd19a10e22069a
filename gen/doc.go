// Package gen holds what bpfkit generates from BPF object files for other
// programs to use: Go bindings of an object's types, maps, programs and
// globals, as cilium/ebpf's bpf2go writes them (`gen go`), and the
// minimal BTF that an object's CO-RE relocations need from a kernel's BTF
// (`gen min_core_btf`, bpftool's BTFgen), for kernels that ship none.
//
// It returns bytes and never prints, never writes files, never exits.
package gen
