package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/bpfkit/bpfkit/internal/render/top"
	"github.com/bpfkit/bpfkit/objects/stats"
)

// `prog top`: the live view on a terminal, else one document per
// interval. Metrics: Prometheus's text exposition format.

func (p *textPrinter) Top(ctx context.Context, next top.Source, opts top.Options) error {
	if f, ok := p.w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		return top.Run(ctx, f, next, opts)
	}
	return eachInterval(ctx, next, func(iv *stats.Interval) error {
		head := fmt.Sprintf("%s  interval %s  %d programs  %d CPUs\n",
			iv.Time.Format(time.RFC3339), iv.Duration.Round(time.Millisecond), len(iv.Programs), iv.CPUs)
		if _, err := io.WriteString(p.w, head); err != nil {
			return err
		}
		if err := table(p.w, top.Header, top.Rows(iv)); err != nil {
			return err
		}
		_, err := io.WriteString(p.w, "\n")
		return err
	})
}

func (p *jsonPrinter) Top(ctx context.Context, next top.Source, _ top.Options) error {
	return eachInterval(ctx, next, func(iv *stats.Interval) error { return p.print(iv) })
}

// eachInterval prints each interval next returns until io.EOF, or until
// ctx ends (a signal: not an error).
func eachInterval(ctx context.Context, next top.Source, print func(*stats.Interval) error) error {
	for {
		iv, err := next(ctx)
		switch {
		case errors.Is(err, io.EOF), ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		}
		if err := print(iv); err != nil {
			return err
		}
	}
}

func (p *textPrinter) Metrics(families []*dto.MetricFamily) error {
	enc := expfmt.NewEncoder(p.w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

func (p *jsonPrinter) Metrics([]*dto.MetricFamily) error { return errNoJSON }
