package main

import (
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

const mapSpec = "MAP := { id ID | pinned FILE | name NAME }"

func mapCommand() *cli.Command {
	return nounCommand("map", "inspect maps and their contents", "maps", mapShow, mapSpec, mapDataCommands()...)
}

// mapShow is `map show [MAP]`.
var mapShow = showAction(objects.Maps, render.Printer.Maps)
