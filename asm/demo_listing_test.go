package asm

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemoListing checks the demo prints in kernel syntax with its map named.
func TestDemoListing(t *testing.T) {
	lines, err := Listing(DemoInstructions(), Options{Labels: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Fprint(&b, lines, PrintOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bpfkit_demo", "(18) r2 = map[bpfkit_events]\n", "(85) call bpf_perf_event_output#25\n", "(95) exit\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("demo listing lacks %q:\n%s", want, b.String())
		}
	}
}
