// Package loader puts BPF object files into the kernel the ways bpfkit's
// commands need: Load (with bpftool's prog load options: type override,
// map reuse, kernel BTF for CO-RE), LoadAndPin (bpftool's prog load and
// loadall, with pinmaps and autoattach), AttachBySection (libbpf's section
// conventions), StartRun (load, set globals, attach everything and stream
// the records of every ring buffer and perf event array) and StartDemo
// (the hand-written teaching program).
//
// Whatever fails half-way is undone: nothing stays loaded, attached or
// pinned that the caller did not get back. Errors say which program the
// kernel refused and why (ProgramLoadError carries the verifier log and
// failed CO-RE relocations).
//
// The package never prints and never decides an output format.
package loader
