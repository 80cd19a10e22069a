// Package asm turns BPF instructions into text: the kernel's (and bpftool's)
// disassembly grammar for translated and ELF code, DOT control-flow graphs,
// JIT image disassembly, and the hand-written demo program.
//
// The pieces:
//
//   - Format renders one instruction (a Raw, from Encode or Decode) in the
//     kernel's grammar, "(bf) r6 = r1"; a Symbolizer names calls and
//     64-bit immediates (KernelSymbolizer does it as bpftool does for code
//     read back from the kernel).
//   - Listing turns cilium/ebpf instructions into Lines with BTF function
//     headers, source lines and references by name; Xlated does it for a
//     loaded program and ELFListing for a program of an object file
//     (objects/elfobj opens the file).
//   - Fprint, JSON and FprintDOT print a listing as bpftool's plain,
//     JSON and "visual" dumps; Jited, FprintJited and JitedJSON do the
//     same for JIT images, disassembled with golang.org/x/arch.
//
// The printer is written from the instruction-set specification (RFC 9669)
// and bpftool's documented output; it follows the current kernel's
// spelling for instructions older bpftool releases mis-render.
//
// The package writes only to the io.Writer a caller gives it and returns
// data for JSON; whether a command prints text or JSON is decided in
// internal/render. It never loads anything into the kernel.
//
// Import cilium/ebpf's asm package as ebpfasm next to this one.
package asm
