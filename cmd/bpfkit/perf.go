package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects/attachments"
)

func perfCommand() *cli.Command {
	show := &cli.Command{
		Name:    "show",
		Aliases: []string{"list"},
		Usage:   "list the perf events and raw tracepoints with programs that processes hold, and perf_event links",
		Action:  perfShow,
	}
	return &cli.Command{
		Name:        "perf",
		Usage:       "programs on perf events (kprobes, uprobes, tracepoints): show",
		ArgsUsage:   "COMMAND",
		Action:      perfShow,
		Subcommands: []*cli.Command{show},
	}
}

// perfShow is `perf show`.
func perfShow(c *cli.Context) error {
	if err := noMoreArgs(c.Args().Slice()); err != nil {
		return fmt.Errorf("perf show: %w", err)
	}
	ps, err := attachments.Perf()
	if err != nil {
		return fmt.Errorf("perf show: %w", err)
	}
	return out(c).Perf(ps)
}
