package main

import (
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

const progSpec = "PROG := { id ID | pinned FILE | tag TAG | name NAME }"

func progCommand() *cli.Command {
	show := &cli.Command{
		Name:      "show",
		Aliases:   []string{"list"},
		Usage:     "list loaded programs",
		ArgsUsage: "[PROG]\n\n" + progSpec,
		Action:    progShow,
	}
	return &cli.Command{
		Name:        "prog",
		Usage:       "inspect programs",
		ArgsUsage:   "COMMAND",
		Action:      progShow,
		Subcommands: append([]*cli.Command{show, progDumpCommand()}, progLoadCommands()...),
	}
}

// progShow is `prog show [PROG]`.
var progShow = showAction(objects.Programs, render.Printer.Programs)
