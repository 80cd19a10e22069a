package render

import (
	"io"
	"strconv"
	"testing"
)

func BenchmarkTableStream2000(b *testing.B) {
	rows := make([][]string, 2000)
	for i := range rows {
		rows[i] = []string{strconv.Itoa(10000 + i), "socket_filter", "bench_p" + strconv.Itoa(i), "a04f5eef06a7f555", "yes", "2026-11-30T22:16:44+0000", "0", "40B", "44B", "4096B", "12345", "-", "lists(1234)"}
	}
	header := []string{"ID", "TYPE", "NAME", "TAG", "GPL", "LOADED AT", "UID", "XLATED", "JITED", "MEMLOCK", "MAPS", "BTF", "PIDS"}
	for b.Loop() {
		g := newGrid(header, len(rows))
		for _, r := range rows {
			for _, c := range r {
				g.cell(c)
			}
			g.endRow()
		}
		g.stream(io.Discard)
	}
}
