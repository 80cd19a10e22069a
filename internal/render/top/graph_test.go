package top

import (
	"slices"
	"testing"
)

func TestGraph(t *testing.T) {
	got := graph([]float64{0, 1, 2, 4, 8}, 2)
	want := []string{"    █", " ▂▄██"}
	if !slices.Equal(got, want) {
		t.Errorf("graph: %q, want %q", got, want)
	}
	if got := graph([]float64{0, 0}, 1); got[0] != "  " {
		t.Errorf("all zero: %q", got)
	}
	if got := graph([]float64{1000, 1}, 1); got[0] != "█▁" {
		t.Errorf("small but not zero: %q", got)
	}
}
