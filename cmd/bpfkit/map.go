package main

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

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
func mapShow(c *cli.Context) error {
	words := c.Args().Slice()
	var sel objects.Selector
	if len(words) > 0 {
		var err error
		if sel, words, err = objects.ParseMapSelector(words); err != nil {
			return err
		}
	}
	if err := noMoreArgs(words); err != nil {
		return err
	}
	maps, err := objects.OpenMaps(sel)
	if err != nil {
		return err
	}
	defer closeAll(maps)

	var pinned map[uint32][]string
	if c.Bool("bpffs") {
		if pinned, err = objects.PinnedPaths(objects.MapID); err != nil {
			return err
		}
	}
	infos := make([]*objects.Map, 0, len(maps))
	for _, m := range maps {
		info, err := objects.MapInfoOf(m)
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
		if sel.Kind == "id" || sel.Kind == "pinned" {
			return out.PrintJSON(infos[0])
		}
		return out.PrintJSON(infos)
	}
	return out.Table(mapTable(infos, c.Bool("bpffs")))
}

func mapTable(maps []*objects.Map, withPins bool) ([]string, [][]string) {
	header := []string{"ID", "TYPE", "NAME", "FLAGS", "KEY", "VALUE", "MAX ENTRIES", "MEMLOCK", "FROZEN", "BTF"}
	if withPins {
		header = append(header, "PINNED")
	}
	rows := make([][]string, 0, len(maps))
	for _, m := range maps {
		typ := m.Type.String()
		if m.OwnerProgType != nil {
			typ += " (owner " + m.OwnerProgType.String() + ")"
		}
		row := []string{
			strconv.FormatUint(uint64(m.ID), 10),
			typ,
			orDash(m.Name),
			fmt.Sprintf("0x%x", m.Flags),
			fmt.Sprintf("%dB", m.BytesKey),
			fmt.Sprintf("%dB", m.BytesValue),
			strconv.FormatUint(uint64(m.MaxEntries), 10),
			bytesOrDash(m.BytesMemlock),
			yesNo(m.Frozen != 0),
			idOrDash(m.BTFID),
		}
		if withPins {
			row = append(row, pinsCell(m.Pinned))
		}
		rows = append(rows, row)
	}
	return header, rows
}
