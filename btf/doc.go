// Package btf renders BTF: bpftool's raw type dump, C headers, function
// prototypes, and typed formatting of map keys, values and event records.
//
// Import cilium/ebpf's btf package as ebpfbtf next to this one.
package btf
