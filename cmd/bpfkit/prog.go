package main

import (
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

const progSpec = "PROG := { id ID | pinned FILE | tag TAG | name NAME }"

func progCommand() *cli.Command {
	return nounCommand("prog", "inspect programs", "loaded programs", progShow, progSpec,
		// bpftool's order, which prefixes follow: `prog p` is pin.
		append(append(append([]*cli.Command{progDumpCommand()}, progLoadCommands()...), progAttachCommands()...), progRunCommand(), progProfileCommand(), progTopCommand())...)
}

// progShow is `prog show [PROG]`.
var progShow = showAction(objects.Programs, render.Printer.Programs)
