package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
)

const linkSpec = "LINK := { id ID | pinned FILE }"

func linkCommand() *cli.Command {
	show := &cli.Command{
		Name:      "show",
		Aliases:   []string{"list"},
		Usage:     "list links",
		ArgsUsage: "[LINK]\n\n" + linkSpec,
		Action:    linkShow,
	}
	return &cli.Command{
		Name:        "link",
		Usage:       "inspect links",
		ArgsUsage:   "COMMAND",
		Action:      linkShow,
		Subcommands: append([]*cli.Command{show}, linkActionCommands()...),
	}
}

// linkShow is `link show [LINK]`.
var linkShow = showSpec[*objects.Link]{
	parse: objects.ParseLinkSelector,
	list:  objects.ListLinks,
	pins:  func() (map[uint32][]string, error) { return objects.PinnedPaths(objects.LinkID) },
	table: linkTable,
}.action()

func linkTable(infos []*objects.Link, withPins bool) ([]string, [][]string) {
	header := []string{"ID", "TYPE", "PROG", "DETAILS"}
	if withPins {
		header = append(header, "PINNED")
	}
	rows := make([][]string, 0, len(infos))
	for _, l := range infos {
		details := make([]string, 0, len(l.Details))
		for _, f := range l.Details {
			details = append(details, fmt.Sprintf("%s %v", f.Key, f.Value))
		}
		row := []string{
			strconv.FormatUint(uint64(l.ID), 10),
			l.Type.String(),
			strconv.FormatUint(uint64(l.ProgID), 10),
			orDash(strings.Join(details, "  ")),
		}
		if withPins {
			row = append(row, pinsCell(l.Pinned))
		}
		rows = append(rows, row)
	}
	return header, rows
}
