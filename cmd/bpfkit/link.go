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
func linkShow(c *cli.Context) error {
	words := c.Args().Slice()
	var sel objects.Selector
	if len(words) > 0 {
		var err error
		if sel, words, err = objects.ParseLinkSelector(words); err != nil {
			return err
		}
	}
	if err := noMoreArgs(words); err != nil {
		return err
	}
	links, err := objects.OpenLinks(sel)
	if err != nil {
		return err
	}
	defer closeAll(links)

	var pinned map[uint32][]string
	if c.Bool("bpffs") {
		if pinned, err = objects.PinnedPaths(objects.LinkID); err != nil {
			return err
		}
	}
	infos := make([]*objects.Link, 0, len(links))
	for _, l := range links {
		info, err := objects.LinkInfoOf(l)
		if err != nil {
			if sel.All() {
				continue
			}
			return err
		}
		if len(pinned) > 0 {
			paths := append([]string{}, pinned[info.ID]...)
			info.Pinned = &paths
		}
		infos = append(infos, info)
	}

	out := outputFor(c)
	if out.JSON {
		if !sel.All() {
			return out.PrintJSON(infos[0])
		}
		return out.PrintJSON(infos)
	}
	header := []string{"ID", "TYPE", "PROG", "DETAILS"}
	if c.Bool("bpffs") {
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
		if c.Bool("bpffs") {
			row = append(row, pinsCell(l.Pinned))
		}
		rows = append(rows, row)
	}
	return out.Table(header, rows)
}
