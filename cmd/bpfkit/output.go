package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/urfave/cli/v2"
)

// output is where and how a command prints: bpftool's JSON (compact or
// pretty) or, for lists, a table. It is the one place that decides.
type output struct {
	W      io.Writer
	JSON   bool
	Pretty bool
}

func outputFor(c *cli.Context) *output {
	pretty := c.Bool("pretty")
	return &output{W: c.App.Writer, JSON: c.Bool("json") || pretty, Pretty: pretty}
}

// PrintJSON writes v as one JSON document and a newline.
func (o *output) PrintJSON(v any) error {
	data, err := marshalJSON(v, o.Pretty)
	if err != nil {
		return err
	}
	_, err = o.W.Write(append(data, '\n'))
	return err
}

func marshalJSON(v any, pretty bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "    ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Null prints bpftool's answer of an action verb in JSON mode.
func (o *output) Null() error {
	if !o.JSON {
		return nil
	}
	_, err := io.WriteString(o.W, "null\n")
	return err
}

// Table prints rows under header as plain aligned columns, two spaces
// apart, with no trailing blanks.
func (o *output) Table(header []string, rows [][]string) error {
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
	)
	t.Header(header)
	for _, r := range rows {
		if err := t.Append(append([]string(nil), r...)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	w := bufio.NewWriter(o.W)
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		w.WriteString(strings.TrimRight(line, " \n"))
		w.WriteByte('\n')
	}
	return w.Flush()
}
