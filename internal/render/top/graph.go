package top

import "strings"

// The eighths of a cell that a bar fills, from none to full.
var eighths = []rune{' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

// graph draws values as bars height cells high, one column each, scaled so
// that the largest fills the graph; the lines come top first. All-zero
// values draw an empty graph.
func graph(values []float64, height int) []string {
	top := 0.0
	for _, v := range values {
		top = max(top, v)
	}
	lines := make([]strings.Builder, height)
	for _, v := range values {
		level := 0
		if top > 0 {
			level = int(v / top * float64(8*height))
			if v > 0 && level == 0 {
				level = 1 // something ran: show it
			}
		}
		for row := range height {
			base := 8 * (height - 1 - row)
			fill := min(max(level-base, 0), 8)
			lines[row].WriteRune(eighths[fill])
		}
	}
	out := make([]string, height)
	for i := range lines {
		out[i] = lines[i].String()
	}
	return out
}
