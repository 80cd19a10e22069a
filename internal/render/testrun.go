package render

import (
	"bufio"
	"fmt"
	"io"

	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/objects/testrun"
)

// ProgRun is one `prog run` result to print.
type ProgRun struct {
	*testrun.Result
	// ShowData and ShowCtx print the data and context the program left
	// (data_out - and ctx_out -).
	ShowData, ShowCtx bool
	// Repeated says the duration is an average.
	Repeated bool
	// Packet numbers a packet of a pcap file from 1 (0: not from one);
	// Length is its length in.
	Packet, Length int
}

// ProgRun: bpftool's hex dumps of the data and context out, then
// "Return value: N, duration: Nns"; for a packet of a pcap file, that
// line begins with the packet's number and length.
func (p *textPrinter) ProgRun(runs []ProgRun) error {
	w := bufio.NewWriter(p.w)
	for _, r := range runs {
		showData, showCtx := r.ShowData && r.DataOut != nil, r.ShowCtx && r.CtxOut != nil
		if r.Packet > 0 {
			sep := " "
			if showData || showCtx {
				sep = "\n"
			}
			fmt.Fprintf(w, "packet %d (%d bytes):%s", r.Packet, r.Length, sep)
		}
		if showData {
			hexDump(w, r.DataOut)
		}
		if showCtx {
			hexDump(w, r.CtxOut)
		}
		avg := ""
		if r.Repeated {
			avg = " (average)"
		}
		fmt.Fprintf(w, "Return value: %d, duration%s: %dns\n", r.Retval, avg, r.Duration)
	}
	return w.Flush()
}

// hexDump is bpftool's hex_print: offset, 16 bytes in pairs, and the
// printable characters.
func hexDump(w io.Writer, data []byte) {
	for i := 0; i < len(data); i += 16 {
		fmt.Fprintf(w, "%07x\t", i)
		j := i
		for ; j < i+16 && j < len(data); j++ {
			fmt.Fprintf(w, "%02x", data[j])
			if j%2 == 1 {
				fmt.Fprint(w, " ")
			}
		}
		for ; j < i+16; j++ {
			fmt.Fprint(w, "  ")
			if j%2 == 1 {
				fmt.Fprint(w, " ")
			}
		}
		fmt.Fprint(w, "| ")
		for j = i; j < i+16 && j < len(data); j++ {
			c := data[j]
			if c < ' ' || c > '~' {
				c = '.'
			}
			w.Write([]byte{c})
			if j == i+7 {
				fmt.Fprint(w, " ")
			}
		}
		fmt.Fprintln(w)
	}
}

// ProgRun: bpftool's object, {"data_out":[...],"ctx_out":[...],"retval":N,
// "duration":N}; for a pcap file an array of them, each with "packet" and
// "length" first.
func (p *jsonPrinter) ProgRun(runs []ProgRun) error {
	bw := bufio.NewWriter(p.w)
	j := jsonw.New(bw, p.pretty)
	pcap := len(runs) > 0 && runs[0].Packet > 0
	if pcap {
		j.StartArray()
	}
	for _, r := range runs {
		j.StartObject()
		if pcap {
			j.Name("packet")
			j.Uint(uint64(r.Packet))
			j.Name("length")
			j.Uint(uint64(r.Length))
		}
		if r.ShowData && r.DataOut != nil {
			j.Name("data_out")
			j.IntBytes(r.DataOut)
		}
		if r.ShowCtx && r.CtxOut != nil {
			j.Name("ctx_out")
			j.IntBytes(r.CtxOut)
		}
		j.Name("retval")
		j.Uint(uint64(r.Retval))
		j.Name("duration")
		j.Uint(uint64(r.Duration))
		j.EndObject()
	}
	if pcap {
		j.EndArray()
	}
	bw.WriteByte('\n')
	return bw.Flush()
}
