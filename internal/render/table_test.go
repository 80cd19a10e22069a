package render

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestGridMatchesTablewriter: large tables are laid out by the grid
// itself, small ones by tablewriter; both give the same bytes, with wide
// and non-ASCII cells, empty cells (inside a row and at its end), empty
// columns and lines after rows.
func TestGridMatchesTablewriter(t *testing.T) {
	words := []string{"", "", "a", "socket_filter", "1234", "-", "bpfkit_t_x", "/sys/fs/bpf/é", "日本語", "x y", "0x480", "lists(1234),sleep(99)"}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 50; n++ {
		cols := 1 + rng.IntN(8)
		header := make([]string, cols)
		for c := range header {
			header[c] = fmt.Sprintf("COL%d", c)
			if c == 1 {
				header[c] = "LONG HEADER NAME"
			}
		}
		g := newGrid(header, 0)
		rows := rng.IntN(20)
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				if c == cols-1 && cols > 2 && n%3 == 0 {
					g.cell("") // a column that is always empty
					continue
				}
				g.cell(words[rng.IntN(len(words))])
			}
			g.endRow()
			if rng.IntN(4) == 0 {
				g.afterRow([]byte("\tmetadata:\n\t\tx = 1\n"))
			}
		}
		var a, b bytes.Buffer
		if err := g.tablewriter(&a); err != nil {
			t.Fatal(err)
		}
		if err := g.stream(&b); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatalf("table %d differs:\n--- tablewriter\n%s\n--- grid\n%s", n, strings.ReplaceAll(a.String(), " ", "·"), strings.ReplaceAll(b.String(), " ", "·"))
		}
	}
}
