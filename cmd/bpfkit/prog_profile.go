package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/profile"
)

func progProfileCommand() *cli.Command {
	return &cli.Command{
		Name:  "profile",
		Usage: "count cycles, instructions, cache and TLB misses of a program's runs (fentry/fexit)",
		ArgsUsage: "PROG [duration DURATION] METRIC...\n\n" + progSpec +
			"\nMETRIC := { cycles | instructions | l1d_loads | llc_misses | itlb_misses | dtlb_misses | cpu_clock }" +
			"\nDURATION is seconds, or a Go duration (500ms); without it, until Ctrl-C.",
		Action: catchSignals(progProfile),
	}
}

// progProfile is `prog profile`.
func progProfile(c *cli.Context) error {
	sel, words, err := objects.Programs.ParseSelector(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("prog profile: %w", err)
	}
	var duration time.Duration
	if len(words) > 2 {
		if _, ok := matchKeyword(words[0], "duration"); ok {
			if duration, err = parseSeconds(words[1]); err != nil {
				return fmt.Errorf("prog profile: %w", err)
			}
			words = words[2:]
		}
	}
	metrics, err := profile.ParseMetrics(words)
	if err != nil {
		return fmt.Errorf("prog profile: %w", err)
	}
	prog, err := objects.Programs.OpenOne(sel)
	if err != nil {
		return fmt.Errorf("prog profile: %w", err)
	}
	defer prog.Close()

	ctx := c.Context
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	s, err := profile.Start(prog, metrics)
	if err != nil {
		return fmt.Errorf("prog profile: %w", err)
	}
	<-ctx.Done()
	r, err := s.Stop()
	if err != nil {
		return fmt.Errorf("prog profile: %w", err)
	}
	return out(c).Profile(r)
}

// parseSeconds reads bpftool's whole seconds, or a Go duration.
func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 0, 32); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("can't parse %s as a duration: seconds (5) or a Go duration (500ms)", s)
	}
	return d, nil
}
