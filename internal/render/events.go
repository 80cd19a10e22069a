package render

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"

	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/objects/events"
)

// EventPrinter writes event records as `bpftool map event_pipe` does:
//
//	== @<sec>.<nsec> CPU: N index: M =====
//	<hex dump>
//	lost N events
//
// or, with JSON, a streamed array of {"type":9,"cpu":N,"index":M,
// "timestamp":T,"data":[...]} and {"type":2,...,"lost":{"id":0,"count":N}}.
// Ring buffer records print as "== @<sec>.<nsec> ring buffer =====" (JSON
// {"type":"ringbuf","timestamp":T,"data":[...]}). With a BTF type the
// record is also decoded: as bpftool's typed text in plain mode, as
// "formatted" in JSON.
type EventPrinter struct {
	bw    *bufio.Writer
	j     *jsonw.Writer
	json  bool
	typ   ebpfbtf.Type
	line  []byte
	count int
}

// NewEventPrinter prints to w; typ (may be nil) decodes each sample.
func NewEventPrinter(w io.Writer, jsonOut, pretty bool, typ ebpfbtf.Type) *EventPrinter {
	p := &EventPrinter{bw: bufio.NewWriter(w), json: jsonOut, typ: typ}
	if jsonOut {
		p.j = jsonw.New(p.bw, pretty)
		p.j.StartArray()
	}
	return p
}

// Print writes one record and flushes it.
func (p *EventPrinter) Print(r *events.Record) error {
	if p.typ != nil && r.Kind == events.Sample {
		if err := fitsType(len(r.Data), p.typ, r.Ring); err != nil {
			return err
		}
	}
	p.count++
	if p.json {
		p.printJSON(r)
	} else {
		p.printPlain(r)
	}
	return p.bw.Flush()
}

func appendTime(b []byte, ns uint64) []byte {
	b = strconv.AppendUint(b, ns/1e9, 10)
	b = append(b, '.')
	frac := strconv.FormatUint(ns%1e9, 10)
	for i := len(frac); i < 9; i++ {
		b = append(b, '0')
	}
	return append(b, frac...)
}

func (p *EventPrinter) printPlain(r *events.Record) {
	b := p.line[:0]
	switch r.Kind {
	case events.Lost:
		b = append(b, "lost "...)
		b = strconv.AppendUint(b, r.Lost, 10)
		b = append(b, " events\n"...)
		p.line = b
		p.bw.Write(b)
		return
	case events.Other:
		b = append(b, "unknown event type="...)
		b = strconv.AppendUint(b, uint64(r.PerfRecordType), 10)
		b = append(b, " size="...)
		b = strconv.AppendInt(b, int64(len(r.Data)+8), 10)
		b = append(b, '\n')
		p.line = b
		p.bw.Write(b)
		return
	}
	b = append(b, "== @"...)
	b = appendTime(b, r.Time)
	if r.Ring {
		b = append(b, " ring buffer ====="...)
	} else {
		b = append(b, " CPU: "...)
		b = strconv.AppendInt(b, int64(r.CPU), 10)
		b = append(b, " index: "...)
		b = strconv.AppendInt(b, int64(r.Index), 10)
		b = append(b, " ====="...)
	}
	b = append(b, '\n')
	p.line = b
	p.bw.Write(b)
	if p.typ != nil {
		j := jsonw.New(p.bw, true)
		btf.WriteValue(j, p.typ, r.Data, btf.ValuePlain)
		p.bw.WriteByte('\n')
		return
	}
	p.bw.Write(append(AppendHex(p.line[:0], r.Data), '\n'))
}

func (p *EventPrinter) printJSON(r *events.Record) {
	j := p.j
	j.StartObject()
	j.Name("type")
	if r.Ring {
		j.String("ringbuf")
	} else {
		j.Uint(uint64(r.PerfType()))
		j.Name("cpu")
		j.Uint(uint64(r.CPU))
		j.Name("index")
		j.Uint(uint64(r.Index))
	}
	switch r.Kind {
	case events.Lost:
		j.Name("lost")
		j.StartObject()
		j.Name("id")
		j.Uint(r.LostID)
		j.Name("count")
		j.Uint(r.Lost)
		j.EndObject()
	case events.Other:
	default:
		j.Name("timestamp")
		j.Uint(r.Time)
		j.Name("data")
		j.IntBytes(r.Data)
		if p.typ != nil {
			j.Name("formatted")
			btf.WriteValue(j, p.typ, r.Data, btf.ValueJSON)
		}
	}
	j.EndObject()
}

// Close ends the JSON array and flushes.
func (p *EventPrinter) Close() error {
	if p.json {
		p.j.EndArray()
		p.bw.WriteByte('\n')
	}
	return p.bw.Flush()
}

// ErrRecordSize is returned when a record cannot be the type it is to be
// decoded as.
var ErrRecordSize = errors.New("record size does not match the type")

// fitsType checks that a record of n bytes holds one typ: exactly, or for
// perf samples with up to 7 bytes of the kernel's padding.
func fitsType(n int, typ ebpfbtf.Type, ring bool) error {
	size, err := ebpfbtf.Sizeof(typ)
	if err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	slack := 7
	if ring {
		slack = 0
	}
	if n < size || n > size+slack {
		return fmt.Errorf("%w: a %d-byte record is not a %s (%d bytes)", ErrRecordSize, n, typeName(typ), size)
	}
	return nil
}

func typeName(t ebpfbtf.Type) string {
	if name := t.TypeName(); name != "" {
		return name
	}
	return fmt.Sprintf("%T", t)
}

// Events returns the printer of `map event_pipe`; typ (may be nil)
// decodes each sample.
func (p *textPrinter) Events(typ ebpfbtf.Type) *EventPrinter {
	return NewEventPrinter(p.w, false, false, typ)
}

func (p *jsonPrinter) Events(typ ebpfbtf.Type) *EventPrinter {
	return NewEventPrinter(p.w, true, p.pretty, typ)
}
