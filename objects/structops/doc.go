// Package structops holds struct_ops maps, the kernel subsystems they
// implement with BPF programs (a TCP congestion control, a scheduler):
// listing them with the kernel struct they fill in, reading their value
// and the map's info for `struct_ops dump`, registering the struct_ops of
// an object file (pinning their links) and unregistering them.
//
// It returns plain data and never prints or decides a format;
// internal/render renders the dumps with the kernel's BTF.
package structops
