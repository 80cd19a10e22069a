package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	bpfbtf "github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects/mapdata"
)

// Log2 histograms print as bpftrace's hist() and the libbpf-tools print
// them: one row per slot from 0 to the last non-zero one, the slot's
// range, its count and a bar scaled to the largest count.

const histBar = 40

type histSlotJSON struct {
	Low   uint64 `json:"low"`
	High  uint64 `json:"high"`
	Count uint64 `json:"count"`
}

type histJSON struct {
	Key   []string       `json:"key,omitempty"`
	KeyF  any            `json:"formatted_key,omitempty"`
	Slots []histSlotJSON `json:"slots"`
}

// slotRange is the range of values slot i counts: 0 -> 1, 2 -> 3, 4 -> 7.
func slotRange(i int) (low, high uint64) {
	if i == 0 {
		return 0, 1
	}
	if i >= 64 {
		return 1 << 63, ^uint64(0)
	}
	return 1 << i, 1<<(i+1) - 1
}

// histKey is a histogram's key as text: typed when the map has a key
// type, hex bytes otherwise.
func histKey(l mapdata.Layout, key []byte) string {
	if l.KeyType != nil {
		if s, err := bpfbtf.FormatValue(l.KeyType, key, bpfbtf.ValuePlain); err == nil {
			return s
		}
	}
	return strings.TrimSpace(string(AppendHex(nil, key)))
}

// writeHists prints histograms as bars.
func writeHists(w io.Writer, l mapdata.Layout, hists []mapdata.Histogram) error {
	for i, h := range hists {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if h.Key != nil {
			fmt.Fprintf(w, "key: %s\n", histKey(l, h.Key))
		}
		if err := writeHist(w, h.Counts); err != nil {
			return err
		}
	}
	if len(hists) == 0 {
		_, err := fmt.Fprintln(w, "(no histograms: the map is empty)")
		return err
	}
	return nil
}

func writeHist(w io.Writer, counts []uint64) error {
	if len(counts) == 0 {
		_, err := fmt.Fprintln(w, "(every slot is 0)")
		return err
	}
	var maxCount uint64
	for _, c := range counts {
		maxCount = max(maxCount, c)
	}
	_, high := slotRange(len(counts) - 1)
	width := len(fmt.Sprint(high))
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s : count    distribution\n", 2*width+4, strings.Repeat(" ", max(width-4, 0))+"value")
	for i, c := range counts {
		low, high := slotRange(i)
		stars := 0
		if maxCount > 0 {
			stars = int(c * histBar / maxCount)
		}
		fmt.Fprintf(&b, "%*d -> %-*d : %-8d |%s%s|\n", width, low, width, high, c,
			strings.Repeat("*", stars), strings.Repeat(" ", histBar-stars))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// histsJSON is histograms as JSON: each slot's range and count, and the
// key as bytes (and typed, when the map has a key type).
func histsJSON(l mapdata.Layout, hists []mapdata.Histogram) []histJSON {
	out := make([]histJSON, 0, len(hists))
	for _, h := range hists {
		hj := histJSON{Slots: make([]histSlotJSON, len(h.Counts))}
		for i, c := range h.Counts {
			low, high := slotRange(i)
			hj.Slots[i] = histSlotJSON{low, high, c}
		}
		if h.Key != nil {
			hj.Key = hexStrings(h.Key)
			if l.KeyType != nil {
				if s, err := bpfbtf.FormatValue(l.KeyType, h.Key, bpfbtf.ValueJSON); err == nil {
					hj.KeyF = json.RawMessage(s)
				}
			}
		}
		out = append(out, hj)
	}
	return out
}

func (p *textPrinter) MapHist(l mapdata.Layout, hists []mapdata.Histogram) error {
	return writeHists(p.w, l, hists)
}

func (p *jsonPrinter) MapHist(l mapdata.Layout, hists []mapdata.Histogram) error {
	return writeJSON(p.w, histsJSON(l, hists), p.pretty)
}
