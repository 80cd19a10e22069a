package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects/metrics"
	"github.com/bpfkit/bpfkit/objects/stats"
)

// defaultListen is where `metrics serve` listens unless told: this
// machine only.
const defaultListen = "127.0.0.1:9435"

func metricsCommand() *cli.Command {
	return &cli.Command{
		Name:      "metrics",
		Usage:     "Prometheus metrics of every program, map and link",
		ArgsUsage: "COMMAND",
		Action:    metricsShow,
		Subcommands: []*cli.Command{
			{
				Name:   "show",
				Usage:  "print the metrics once, in Prometheus's text format (for node_exporter's textfile collector)",
				Action: metricsShow,
			},
			{
				Name:      "serve",
				Usage:     "serve the metrics at /metrics, with run-time statistics on, until Ctrl-C or SIGTERM",
				ArgsUsage: "[listen ADDR]\n\nADDR := HOST:PORT (default " + defaultListen + ")",
				Action:    catchSignals(metricsServe),
			},
		},
	}
}

// metricsShow is `metrics show`: one scrape, printed. Statistics are left
// as they are: the counters are cumulative, and bpfkit_stats_enabled says
// whether they move.
func metricsShow(c *cli.Context) error {
	if err := noMoreArgs(c.Args().Slice()); err != nil {
		return fmt.Errorf("metrics show: %w", err)
	}
	if err := out(c).TextOnly(errors.New("metrics show: Prometheus's text format is the only output (no -j)")); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(nil))
	families, err := reg.Gather()
	if err != nil {
		// Nothing is printed, so that a textfile collector's file is not
		// replaced by a partial one.
		return fmt.Errorf("metrics show: %w", scrapeError(err))
	}
	return out(c).Metrics(families)
}

// metricsServe is `metrics serve [listen ADDR]`: /metrics read from the
// kernel at each scrape, statistics on while it serves.
func metricsServe(c *cli.Context) (err error) {
	addr := defaultListen
	if err := parseKeywords(c.Args().Slice(), keyword{name: "listen", value: &addr, what: "HOST:PORT address"}); err != nil {
		return fmt.Errorf("metrics serve: %w", err)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("metrics serve: listen '%s': want HOST:PORT: %w", addr, err)
	}
	method, err := statsMethod()
	if err != nil {
		return fmt.Errorf("metrics serve: %w", err)
	}
	ctx := c.Context
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics serve: %w", err)
	}
	defer ln.Close()
	sw, err := stats.Enable(method)
	if err != nil {
		return fmt.Errorf("metrics serve: %w", err)
	}
	defer closeSwitch(sw, &err)

	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(sw),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	// A scrape of 2,000 programs and as many maps is 2 MB of text:
	// klauspost's gzip compresses it in 3.2 ms, compress/gzip (which
	// client_golang would use) in 9.3 ms, to about the same size.
	mux.Handle("/metrics", gzhttp.GzipHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// Each scrape reads the kernel: a few at a time at most.
		MaxRequestsInFlight: 4,
		Timeout:             30 * time.Second,
		DisableCompression:  true,
	})))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "bpfkit metrics: see /metrics")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	out(c).Info("serving http://%s/metrics (statistics by %s) until Ctrl-C", ln.Addr(), sw.Method())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("metrics serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// scrapeError is the first error of a failed scrape, without the client
// library's wrapping (which names the metric's whole description).
func scrapeError(err error) error {
	var multi prometheus.MultiError
	if errors.As(err, &multi) && len(multi) > 0 {
		err = multi[0]
	}
	if inner := errors.Unwrap(err); inner != nil {
		return inner
	}
	return err
}
