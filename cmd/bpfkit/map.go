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
var mapShow = showSpec[*objects.Map]{
	parse: objects.ParseMapSelector,
	list:  objects.ListMaps,
	pins:  func() (map[uint32][]string, error) { return objects.PinnedPaths(objects.MapID) },
	table: mapTable,
}.action()

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
