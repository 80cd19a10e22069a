// Command bpfkit inspects, dumps and loads eBPF programs, maps, links and
// object files, with bpftool's grammar:
//
//	bpfkit [-j|--json] [-p|--pretty] [-d|--debug] [-f|--bpffs] [-n|--nomount] OBJECT COMMAND [ARGS]
//
// Run `bpfkit help` for the objects and `bpfkit OBJECT help` for their
// commands.
package main

import "os"

// version is set at link time by the Makefile.
var version = "dev"

func main() {
	ignoreAfterAction = true
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
