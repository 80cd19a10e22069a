// Package assembler is bpfkit's text assembler for BPF: Dump writes a BPF
// ELF object as an assembly file in the kernel's disassembly grammar (the
// syntax bpftool and the verifier print), with directives for sections,
// symbols, data, BTF and CO-RE relocations; Assemble builds such a file
// back into an object that bpfkit, bpftool and libbpf load. The grammar is
// in docs/asm.md.
//
// Instructions are read by asm.ParseInstruction, the inverse of
// asm.Format, so the two packages share one set of mnemonic tables.
// Nothing here prints or loads: both functions return bytes.
package assembler
