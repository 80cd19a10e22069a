package main

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/attachments"
)

func iterCommand() *cli.Command {
	pin := &cli.Command{
		Name:      "pin",
		Usage:     "load an iterator program, attach it and pin the link at PATH (cat PATH runs it)",
		ArgsUsage: "OBJ PATH [map MAP]\n\n" + mapSpec,
		Action:    catchSignals(iterPin),
	}
	return &cli.Command{
		Name:        "iter",
		Usage:       "BPF iterators: pin",
		ArgsUsage:   "COMMAND",
		Subcommands: []*cli.Command{pin},
	}
}

// iterPin is `iter pin OBJ PATH [map MAP]`.
func iterPin(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) < 2 {
		return fmt.Errorf("iter pin: expected OBJ PATH [map MAP]")
	}
	obj, path, rest := words[0], words[1], words[2:]
	var m *ebpf.Map
	if len(rest) > 0 {
		if _, ok := matchKeyword(rest[0], "map"); !ok {
			return fmt.Errorf("iter pin: expected 'map', got: '%s'", rest[0])
		}
		sel, more, err := objects.Maps.ParseSelector(rest[1:])
		if err != nil {
			return fmt.Errorf("iter pin: incorrect map spec: %w", err)
		}
		if err := noMoreArgs(more); err != nil {
			return fmt.Errorf("iter pin: %w", err)
		}
		if m, err = objects.Maps.OpenOne(sel); err != nil {
			return fmt.Errorf("iter pin: %w", err)
		}
		defer m.Close()
	}
	if err := ensureBPFFS(c); err != nil {
		return fmt.Errorf("iter pin: %w", err)
	}
	if err := attachments.IterPin(c.Context, obj, path, m); err != nil {
		return fmt.Errorf("iter pin: %w", err)
	}
	return out(c).Null()
}
