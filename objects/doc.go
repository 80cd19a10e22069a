// Package objects is bpfkit's object model: BPF programs, maps, links and BTF
// objects in the running kernel (enumerate, select by id, name, tag or pin,
// describe), BPF ELF object files (sections, symbols, relocations, programs,
// maps), and the loader between the two.
//
// The package returns plain data. It never prints and never exits; rendering
// is the job of cmd/bpfkit.
package objects
