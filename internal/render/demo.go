package render

import (
	"fmt"
	"io"
	"time"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/objects/loader"
)

// The demo talks to a person: it has only a text form, and the JSON
// printer refuses it (commands check TextOnly first).

func (p *textPrinter) Demo() DemoPrinter { return textDemo{p.w} }
func (p *jsonPrinter) Demo() DemoPrinter { return noDemo{} }

type textDemo struct{ w io.Writer }

func (d textDemo) Intro(listing []bpfasm.Line) error {
	fmt.Fprintf(d.w, "The demo program: on every openat it stores %d on the stack and sends those 4 bytes\n", bpfasm.DemoValue)
	fmt.Fprintf(d.w, "to the perf event array %s with bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, r10-8, 4).\n\n", bpfasm.DemoMapName)
	if err := bpfasm.Fprint(d.w, listing, bpfasm.PrintOptions{}); err != nil {
		return err
	}
	_, err := fmt.Fprintln(d.w)
	return err
}

func (d textDemo) Loaded(demo *loader.Demo, xlated []bpfasm.Line) error {
	fmt.Fprintf(d.w, "Loaded program %s as id %d with map %s id %d, attached to tracepoint %s.\n",
		bpfasm.DemoProgName, demo.ProgID, bpfasm.DemoMapName, demo.MapID, loader.DemoTracepoint)
	if xlated != nil {
		fmt.Fprintf(d.w, "\nWhat the kernel made of it after verification (bpfkit prog dump xlated id %d):\n", demo.ProgID)
		bpfasm.Fprint(d.w, xlated, bpfasm.PrintOptions{})
		fmt.Fprintln(d.w)
	}
	_, err := fmt.Fprintf(d.w, "Inspect it from another terminal: bpfkit prog show id %d\n", demo.ProgID)
	return err
}

func (d textDemo) Waiting(count int) error {
	var err error
	if count > 0 {
		_, err = fmt.Fprintf(d.w, "Waiting for %d records (Ctrl-C stops)...\n", count)
	} else {
		_, err = fmt.Fprintf(d.w, "Waiting for records (Ctrl-C stops)...\n")
	}
	return err
}

func (d textDemo) Quiet(wait time.Duration, file string) error {
	_, err := fmt.Fprintf(d.w, "no openat for %g s: bpfkit opens %s to make one\n", wait.Seconds(), file)
	return err
}

func (d textDemo) Record(rec loader.DemoRecord) error {
	var err error
	if rec.Lost > 0 {
		_, err = fmt.Fprintf(d.w, "CPU %02d  lost %d samples\n", rec.CPU, rec.Lost)
	} else {
		_, err = fmt.Fprintf(d.w, "CPU %02d  raw % x  value %d\n", rec.CPU, rec.Raw, rec.Value)
	}
	return err
}

func (d textDemo) End(records int, lost uint64) error {
	_, err := fmt.Fprintf(d.w, "%d records, %d lost samples. Detached and unloaded %s.\n", records, lost, bpfasm.DemoProgName)
	return err
}

// noDemo is the demo printer of the JSON printer.
type noDemo struct{}

func (noDemo) Intro([]bpfasm.Line) error                { return errNoJSON }
func (noDemo) Loaded(*loader.Demo, []bpfasm.Line) error { return errNoJSON }
func (noDemo) Waiting(int) error                        { return errNoJSON }
func (noDemo) Record(loader.DemoRecord) error           { return errNoJSON }
func (noDemo) Quiet(time.Duration, string) error        { return errNoJSON }
func (noDemo) End(int, uint64) error                    { return errNoJSON }
