package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

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
var progShow = showSpec[*objects.Program]{
	parse: objects.ParseProgSelector,
	list:  objects.ListPrograms,
	pins:  func() (map[uint32][]string, error) { return objects.PinnedPaths(objects.ProgramID) },
	table: progTable,
}.action()

func progTable(progs []*objects.Program, withPins bool) ([]string, [][]string) {
	header := []string{"ID", "TYPE", "NAME", "TAG", "GPL", "LOADED AT", "UID", "XLATED", "JITED", "MEMLOCK", "MAPS", "BTF"}
	if withPins {
		header = append(header, "PINNED")
	}
	rows := make([][]string, 0, len(progs))
	for _, p := range progs {
		loaded := "-"
		if t, ok := p.LoadTime(); ok {
			loaded = t.Format("2006-01-02T15:04:05-0700")
		}
		uid := "-"
		if p.UID != nil {
			uid = strconv.FormatUint(uint64(*p.UID), 10)
		}
		jited := "-"
		if p.BytesJited != nil {
			jited = fmt.Sprintf("%dB", *p.BytesJited)
		}
		row := []string{
			strconv.FormatUint(uint64(p.ID), 10),
			p.Type.String(),
			orDash(p.Name),
			p.Tag,
			yesNo(p.GPLCompatible),
			loaded,
			uid,
			fmt.Sprintf("%dB", p.BytesXlated),
			jited,
			bytesOrDash(p.BytesMemlock),
			orDash(joinIDs(p.MapIDs)),
			idOrDash(p.BTFID),
		}
		if withPins {
			row = append(row, pinsCell(p.Pinned))
		}
		rows = append(rows, row)
	}
	return header, rows
}

func closeAll[T interface{ Close() error }](objs []T) {
	for _, o := range objs {
		o.Close()
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func idOrDash(id uint32) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatUint(uint64(id), 10)
}

func bytesOrDash(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprintf("%dB", *n)
}

func joinIDs(ids []uint32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ",")
}

func pinsCell(p *[]string) string {
	if p == nil || len(*p) == 0 {
		return "-"
	}
	return strings.Join(*p, ",")
}
