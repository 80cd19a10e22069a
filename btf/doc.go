// Package btf reads BTF, the BPF Type Format (Documentation/bpf/btf.rst),
// and prints it the ways bpftool does. It holds:
//
//   - the BTF parser (parse.go): Parse and ParseFile make a Spec of
//     Types from raw BTF, split BTF included (an object file's .BTF
//     section comes from objects/elfobj, the one ELF reader). It keeps every field bpftool
//     prints and checks every offset, length, string and type reference,
//     so hostile input ends in an error, never a panic.
//   - bpftool's raw type dump (raw.go), plain and JSON, and its C header
//     dump, vmlinux.h as bpftool 7.8 prints it: ordering and emission
//     (cdump.go), bpftool's sorted order (cdump_sort.go), declarations
//     (cdump_decl.go), struct layout and padding (cdump_layout.go).
//   - the value formatter (value.go): map keys, values and event records
//     typed by cilium/ebpf's BTF, as bpftool's btf_dumper prints them;
//     and its inverse, the value parser (value_parse.go), the one text to
//     bytes encoder that `map update` and `run --set` share.
//
// What it must not do: touch the kernel (no bpf(2), no sysfs beyond the
// file a caller names to ParseFile: callers bring BTF bytes); print to
// stdout (every printer writes to the io.Writer or *jsonw.Writer its
// caller passes); decide a format beyond bpftool's text forms it
// implements (JSON or not, compact or pretty, is the caller's choice).
//
// Import cilium/ebpf's btf package as ebpfbtf next to this one.
package btf
