// Package jsonw is a streaming JSON writer that lays out its output as
// bpftool's json_writer does, compact or pretty, so that JSON dumps are
// byte-identical to bpftool's. It escapes every string properly, so its
// output is always valid JSON.
package jsonw
