package mapdata

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// Log2 histograms, as bpftrace's hist() and the libbpf-tools keep them:
// slot i counts the values v with 2^(i-1) <= v < 2^i (slot 0 holds 0 and
// 1), either as an array map of integer counters indexed by slot, or as a
// value struct with an integer array member named slots (struct hist
// { __u32 slots[MAX_SLOTS]; }), one histogram per key.

// maxSlots is the most slots a log2 histogram of 64-bit values has.
const maxSlots = 64

// Histogram is one log2 histogram read from a map.
type Histogram struct {
	// Key is the element's key for a map whose values hold a slots
	// array, nil for an array of counters.
	Key []byte
	// Counts holds each slot's count, per-CPU values added up.
	Counts []uint64
}

// HistShape says how a map holds a log2 histogram.
type HistShape int

const (
	NotHist     HistShape = iota
	CounterHist           // an array map of counters indexed by slot
	SlotsHist             // values are structs with a slots array
)

// ErrNotHist is returned by HistShapeOf for a map that holds no log2
// histogram.
var ErrNotHist = errors.New("not a log2 histogram: want an array map of at most 64 integer counters indexed by slot, or values that are structs with an integer array member named slots")

// HistShapeOf tells whether and how the map l holds log2 histograms. A
// value struct with a slots array always does. An array of at most 64
// integer counters does when its name says so (hist or slot in it) or
// when any is true (map dump ... hist).
func HistShapeOf(l Layout, any bool) (HistShape, error) {
	if _, _, _, ok := slotsMember(l.ValueType); ok {
		return SlotsHist, nil
	}
	isArray := l.Type == ebpf.Array || l.Type == ebpf.PerCPUArray
	counter := l.ValueSize == 4 || l.ValueSize == 8
	if it, ok := ebpfbtf.UnderlyingType(orVoid(l.ValueType)).(*ebpfbtf.Int); l.ValueType != nil && (!ok || it.Encoding&ebpfbtf.Bool != 0) {
		counter = false
	}
	name := strings.ToLower(l.Name)
	named := strings.Contains(name, "hist") || strings.Contains(name, "slot")
	if isArray && counter && l.KeySize == 4 && l.MaxEntries > 0 && l.MaxEntries <= maxSlots && (any || named) {
		return CounterHist, nil
	}
	return NotHist, ErrNotHist
}

func orVoid(t ebpfbtf.Type) ebpfbtf.Type {
	if t == nil {
		return &ebpfbtf.Void{}
	}
	return t
}

// slotsMember finds an integer array member named slots in a struct
// value type: its byte offset, element size and length.
func slotsMember(t ebpfbtf.Type) (off, elem, n int, ok bool) {
	st, isStruct := ebpfbtf.UnderlyingType(orVoid(t)).(*ebpfbtf.Struct)
	if !isStruct {
		return 0, 0, 0, false
	}
	for _, m := range st.Members {
		if m.Name != "slots" || m.BitfieldSize != 0 {
			continue
		}
		a, isArray := ebpfbtf.UnderlyingType(m.Type).(*ebpfbtf.Array)
		if !isArray || a.Nelems == 0 || a.Nelems > maxSlots {
			return 0, 0, 0, false
		}
		it, isInt := ebpfbtf.UnderlyingType(a.Type).(*ebpfbtf.Int)
		if !isInt || (it.Size != 4 && it.Size != 8) {
			return 0, 0, 0, false
		}
		return int(m.Offset / 8), int(it.Size), int(a.Nelems), true
	}
	return 0, 0, 0, false
}

// Histograms reads the log2 histograms of the entries of map l, which
// HistShapeOf says holds them. Counts past the last non-zero slot are
// left out.
func Histograms(l Layout, shape HistShape, entries []*Entry) ([]Histogram, error) {
	switch shape {
	case CounterHist:
		h := Histogram{Counts: make([]uint64, l.MaxEntries)}
		for _, e := range entries {
			if e.Errno != 0 || len(e.Key) != 4 {
				continue
			}
			slot := binary.NativeEndian.Uint32(e.Key)
			if slot < uint32(len(h.Counts)) {
				h.Counts[slot] = sumValues(e, 0, int(l.ValueSize))
			}
		}
		h.Counts = trimSlots(h.Counts)
		return []Histogram{h}, nil
	case SlotsHist:
		off, elem, n, _ := slotsMember(l.ValueType)
		var out []Histogram
		for _, e := range entries {
			if e.Errno != 0 {
				continue
			}
			h := Histogram{Key: e.Key, Counts: make([]uint64, n)}
			for i := range h.Counts {
				h.Counts[i] = sumValues(e, off+i*elem, elem)
			}
			h.Counts = trimSlots(h.Counts)
			out = append(out, h)
		}
		return out, nil
	}
	return nil, fmt.Errorf("map %s: %w", l.Name, ErrNotHist)
}

// sumValues reads the size-byte counter at off of an entry's value, added
// up over CPUs for per-CPU maps.
func sumValues(e *Entry, off, size int) uint64 {
	values := e.PerCPU
	if values == nil {
		values = [][]byte{e.Value}
	}
	var sum uint64
	for _, v := range values {
		if off+size > len(v) {
			continue
		}
		if size == 4 {
			sum += uint64(binary.NativeEndian.Uint32(v[off:]))
		} else {
			sum += binary.NativeEndian.Uint64(v[off:])
		}
	}
	return sum
}

func trimSlots(c []uint64) []uint64 {
	n := len(c)
	for n > 0 && c[n-1] == 0 {
		n--
	}
	return c[:n]
}
