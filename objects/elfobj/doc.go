// Package elfobj is the BPF ELF file model: a BPF object file's sections,
// symbols and relocations with readelf's numbers and names, and what each
// means to BPF (programs, maps, global variables, the license, BTF and its
// extensions), plus the object as cilium/ebpf reads it for loading
// (CollectionSpec) and the order in which libbpf walks its programs and
// maps.
//
// Open is the one way bpfkit opens an object file: the elf listings, the
// loader, the disassembler and the BTF dump all start from it. It also
// finds a BPF object embedded in another ELF file (a libbpf skeleton).
//
// The reader is hardened against hostile input: it decodes the ELF
// structures itself, checks every offset and size against the data, and
// bounds the file size and every table (MaxSize and the limits in
// file.go). A malformed file yields one error that says what is wrong,
// matching ErrNotBPF; it never panics (FuzzRead).
//
// The package never touches the kernel and never prints.
package elfobj
