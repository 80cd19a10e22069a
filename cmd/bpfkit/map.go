package main

import (
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

const mapSpec = "MAP := { id ID | pinned FILE | name NAME }"

func mapCommand() *cli.Command {
	show := &cli.Command{
		Name:      "show",
		Aliases:   []string{"list"},
		Usage:     "list maps",
		ArgsUsage: "[MAP]\n\n" + mapSpec,
		Action:    mapShow,
	}
	return &cli.Command{
		Name:        "map",
		Usage:       "inspect maps and their contents",
		ArgsUsage:   "COMMAND",
		Action:      mapShow,
		Subcommands: append([]*cli.Command{show}, mapDataCommands()...),
	}
}

// mapShow is `map show [MAP]`.
var mapShow = showAction(objects.Maps, render.Printer.Maps)
