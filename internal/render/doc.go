// Package render holds every printer of bpfkit: tables for lists, bpftool's
// plain text for dumps (byte-identical where bpftool is right), bpftool's
// JSON, map dump and event formats, and the run and demo transcripts.
//
// The output format is decided once: New returns the text or the JSON
// Printer, and commands hand each result to the Printer method for its
// kind. No other package imports tablewriter, and the libraries below
// (objects and its sub-packages, asm, btf) never decide a format.
package render
