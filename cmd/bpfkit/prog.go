package main

import (
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

const progSpec = "PROG := { id ID | pinned FILE | tag TAG | name NAME }"

func progCommand() *cli.Command {
	return nounCommand("prog", "inspect programs", "loaded programs", progShow, progSpec,
		append(append([]*cli.Command{progDumpCommand()}, progLoadCommands()...), progTopCommand())...)
}

// progShow is `prog show [PROG]`.
var progShow = showAction(objects.Programs, render.Printer.Programs)
