package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render/top"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/stats"
)

const topColumns = "COLUMN := { id | type | name | events | avg | total_avg | cpu | runs }"

func progTopCommand() *cli.Command {
	return &cli.Command{
		Name:  "top",
		Usage: "show what each program costs, every interval: events/s, average run time, CPU %",
		ArgsUsage: "[PROG...] [interval D] [count N] [sort COLUMN]\n\n" + progSpec + "\n" + topColumns +
			"\nD is a duration (500ms, 2s) or a number of seconds; the default is 1s. " +
			"On a terminal a live view; piped or with -j one document per interval.",
		Action: catchSignals(progTop),
	}
}

// progTop is `prog top`: statistics on while it runs, and the rates of
// every interval printed until count intervals, q, Ctrl-C or SIGTERM.
func progTop(c *cli.Context) (err error) {
	opts, err := parseTopArgs(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("prog top: %w", err)
	}
	method, err := statsMethod()
	if err != nil {
		return fmt.Errorf("prog top: %w", err)
	}
	ctx := c.Context
	t, err := stats.NewTop(opts)
	if err != nil {
		return fmt.Errorf("prog top: %w", err)
	}
	sw, err := stats.Enable(method)
	if err != nil {
		return fmt.Errorf("prog top: %w", err)
	}
	defer closeSwitch(sw, &err)
	err = out(c).Top(ctx, t.Next, top.Options{Interval: opts.Interval, Sort: opts.Sort, Stats: sw.Method().String()})
	if errors.Is(err, syscall.EPIPE) {
		return nil // the reader went away: `bpfkit -j prog top | head -1`
	}
	return err
}

// parseTopArgs parses `[PROG...] [interval D] [count N] [sort COLUMN]`,
// keywords by unique prefix, in any order.
func parseTopArgs(words []string) (stats.TopOptions, error) {
	opts := stats.TopOptions{Interval: time.Second, Sort: stats.ByCPU}
	for len(words) > 0 {
		kw, ok := matchKeyword(words[0], "id", "pinned", "tag", "name", "interval", "count", "sort")
		if !ok {
			return opts, fmt.Errorf("unknown argument '%s': expected PROG, interval, count or sort", words[0])
		}
		if kw != "interval" && kw != "count" && kw != "sort" {
			sel, rest, err := objects.Programs.ParseSelector(words)
			if err != nil {
				return opts, err
			}
			opts.Select, words = append(opts.Select, sel), rest
			continue
		}
		if len(words) < 2 {
			return opts, fmt.Errorf("'%s' needs a value", kw)
		}
		value := words[1]
		words = words[2:]
		var err error
		switch kw {
		case "interval":
			opts.Interval, err = parseInterval(value)
		case "count":
			opts.Count, err = strconv.Atoi(value)
			if err != nil || opts.Count < 1 {
				err = fmt.Errorf("count '%s': want a whole number of intervals, at least 1", value)
			}
		case "sort":
			opts.Sort, err = stats.ParseColumn(value)
		}
		if err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// parseInterval parses a duration (500ms, 2s) or a number of seconds.
func parseInterval(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || secs > math.MaxInt64/float64(time.Second) {
			return 0, fmt.Errorf("interval '%s': want a duration such as 500ms or 2s, or a number of seconds", s)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < stats.MinInterval {
		return 0, fmt.Errorf("interval '%s' is too short: at least %s", s, stats.MinInterval)
	}
	return d, nil
}

// statsMethod is how statistics are switched on: BPF_STATS=fd or sysctl
// chooses, otherwise the file descriptor, and the sysctl on kernels
// without BPF_ENABLE_STATS.
func statsMethod() (stats.Method, error) {
	switch v := os.Getenv("BPFKIT_STATS"); v {
	case "", "auto":
		return stats.Auto, nil
	case "fd":
		return stats.FD, nil
	case "sysctl":
		return stats.Sysctl, nil
	default:
		return 0, fmt.Errorf("BPFKIT_STATS=%s: want auto, fd or sysctl", v)
	}
}

// closeSwitch turns statistics back off, and reports a failure to do so
// unless the command failed already.
func closeSwitch(sw *stats.Switch, err *error) {
	if cerr := sw.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}
