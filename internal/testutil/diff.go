package testutil

import (
	"bytes"
	"fmt"
)

// FirstDiff describes where got first differs from want, line by line:
// the line and the byte in it, both line counts, and both lines from 80
// bytes before the difference to 80 after; "" when they are equal. It
// suits outputs too long to print whole, such as a dump of vmlinux.
func FirstDiff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	i := 0
	for i < len(gl) && i < len(wl) && bytes.Equal(gl[i], wl[i]) {
		i++
	}
	var g, w []byte
	if i < len(gl) {
		g = gl[i]
	}
	if i < len(wl) {
		w = wl[i]
	}
	c := 0
	for c < len(g) && c < len(w) && g[c] == w[c] {
		c++
	}
	from := max(0, c-80)
	return fmt.Sprintf("line %d, byte %d (%d lines, want %d):\n got:  %q\n want: %q",
		i+1, c, len(gl), len(wl), g[from:min(len(g), c+80)], w[from:min(len(w), c+80)])
}
