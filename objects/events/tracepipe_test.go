package events

import "testing"

func TestParseTraceLine(t *testing.T) {
	l := ParseTraceLine("            bash-1234    [001] d..31  5087.123456: bpf_trace_printk: bpfkit-tp openat pid=1234")
	if l.Task != "bash" || l.PID != 1234 || l.CPU != 1 || l.Timestamp != "5087.123456" || l.Message != "bpfkit-tp openat pid=1234" {
		t.Errorf("%+v", l)
	}
	l = ParseTraceLine("  kworker/u4:2-56 [000] ..... 12.5: bpf_trace_printk: x: y")
	if l.Task != "kworker/u4:2" || l.PID != 56 || l.Message != "x: y" {
		t.Errorf("%+v", l)
	}
	if l := ParseTraceLine("garbage"); l.Message != "garbage" || l.PID != -1 {
		t.Errorf("%+v", l)
	}
}

// FuzzParseTraceLine: any trace_pipe line parses without panicking and
// keeps the raw text.
func FuzzParseTraceLine(f *testing.F) {
	for _, s := range []string{
		"            bash-1234    [001] d..31  5087.123456: bpf_trace_printk: hello",
		"  kworker/u4:2-56 [000] ..... 12.5: bpf_trace_printk: x: y",
		"memfd:sealed-91-1034 [000] ...21 2153.060341: bpf_trace_printk: m",
		"", "-", "a-1 [", "a-1 [2] 3.4: f:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := ParseTraceLine(s)
		if l.Raw != s {
			t.Fatalf("raw %q, want %q", l.Raw, s)
		}
	})
}
