// Package objects holds the BPF objects live in the running kernel:
// programs, maps, links and BTF objects. It enumerates them (one loop over
// the kernel's object ids), selects them the way bpftool's PROG, MAP and
// LINK arguments do (Selector), describes them with the fields bpftool
// shows (ProgramInfo, MapInfo, LinkInfo, BTFInfo from the Describe
// functions), pins them and finds their pins on every mounted bpffs, mounts
// bpffs and tracefs, reads fdinfo and kallsyms, and names the kernel's
// enums as libbpf does (TypeName).
//
// Programs, Maps and Links are the three nouns: one Noun table each says
// what differs between them, and every verb (Open, List, Pin, PinnedPaths)
// is written once.
//
// The sub-packages hold the other concerns: elfobj the BPF ELF file model,
// loader loading and attaching, events the perf and ring buffer readers,
// mapdata the contents of maps.
//
// The package returns plain data. It never prints, never exits and never
// decides an output format; internal/render does that. The raw bpf(2)
// calls that cilium/ebpf does not expose are in sys.go, each with a zeroed
// struct.
package objects
