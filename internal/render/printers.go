package render

import (
	"bufio"
	"fmt"
	"io"

	"github.com/bpfkit/bpfkit/internal/jsonw"
)

// textPrinter prints bpftool's plain text, and tables for lists.
type textPrinter struct{ base }

// jsonPrinter prints bpftool's JSON.
type jsonPrinter struct {
	base
	pretty bool
}

func (p *textPrinter) Null() error { return nil }

func (p *jsonPrinter) Null() error {
	_, err := io.WriteString(p.w, "null\n")
	return err
}

func (p *textPrinter) Error(err error) {
	fmt.Fprintf(p.errw, "Error: %s\n", OneLine(err.Error()))
}

func (p *jsonPrinter) Error(err error) {
	p.print(map[string]string{"error": err.Error()})
}

func (p *textPrinter) Info(format string, args ...any) { p.Warn(format, args...) }
func (p *jsonPrinter) Info(string, ...any)             {}

func (p *textPrinter) TextOnly(error) error     { return nil }
func (p *jsonPrinter) TextOnly(err error) error { return err }

func (p *textPrinter) Version(v string) error {
	_, err := fmt.Fprintf(p.w, "bpfkit %s\n", v)
	return err
}

func (p *jsonPrinter) Version(v string) error {
	return p.print(struct {
		Version string `json:"version"`
	}{v})
}

// print writes v as one JSON document and a newline.
func (p *jsonPrinter) print(v any) error {
	return writeJSON(p.w, v, p.pretty)
}

// writeJSON writes v to w as one JSON document, laid out as bpftool's
// json_writer lays out its compact or pretty output, and a newline.
func writeJSON(w io.Writer, v any, pretty bool) error {
	bw := bufio.NewWriter(w)
	if err := jsonw.New(bw, pretty).Value(v); err != nil {
		return err
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// list prints items as one object when one is set, else as an array.
func (p *jsonPrinter) list(items any, first func() any, one bool) error {
	if one {
		return p.print(first())
	}
	return p.print(items)
}

// Source: generated source, as it is.
func (p *textPrinter) Source(src []byte) error {
	_, err := p.w.Write(src)
	return err
}

func (p *jsonPrinter) Source([]byte) error { return errNoJSON }
