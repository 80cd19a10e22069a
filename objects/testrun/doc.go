// Package testrun runs a loaded program once (or N times) on input the
// caller gives, without attaching it: the kernel's BPF_PROG_TEST_RUN, as
// `bpftool prog run` uses it. It returns the program's return value, the
// average duration and the packet and context as the program left them,
// and reads pcap files of packets to run a program on each.
//
// It returns data and never prints, never decides a format.
package testrun
