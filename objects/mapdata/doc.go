// Package mapdata holds the contents of live BPF maps: streaming dumps
// (batched where the kernel allows, bpftool's get_next_key walk
// elsewhere, with memory bounded whatever the map's size), lookups, the
// layout that printing and parsing an element needs (sizes, possible CPUs,
// BTF key and value types), and the parser of bpftool's key/value syntax
// with BTF-typed input.
//
// The package never prints; internal/render prints entries as bpftool does.
package mapdata
