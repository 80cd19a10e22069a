package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/structops"
)

const structOpsSpec = "STRUCT_OPS_MAP := { id STRUCT_OPS_MAP_ID | name STRUCT_OPS_MAP_NAME }"

func structOpsCommand() *cli.Command {
	return &cli.Command{
		Name:      "struct_ops",
		Usage:     "struct_ops maps, kernel subsystems implemented in BPF: show, dump, register, unregister",
		ArgsUsage: "COMMAND",
		Action:    structOpsShow,
		Subcommands: []*cli.Command{{
			Name:      "show",
			Aliases:   []string{"list"},
			Usage:     "list struct_ops maps and the kernel struct each implements",
			ArgsUsage: "[STRUCT_OPS_MAP]\n\n" + structOpsSpec,
			Action:    structOpsShow,
		}, {
			Name:      "dump",
			Usage:     "dump struct_ops maps: their info and value, with the programs they hold",
			ArgsUsage: "[STRUCT_OPS_MAP]\n\n" + structOpsSpec,
			Action:    structOpsDump,
		}, {
			Name:      "register",
			Usage:     "register the struct_ops of an object file, pinning their links in LINK_DIR",
			ArgsUsage: "OBJ [LINK_DIR]",
			Action:    catchSignals(structOpsRegister),
		}, {
			Name:      "unregister",
			Usage:     "unregister struct_ops maps (detaching their links, if they have some)",
			ArgsUsage: "STRUCT_OPS_MAP\n\n" + structOpsSpec,
			Action:    structOpsUnregister,
		}},
	}
}

// structOpsSelector parses an optional STRUCT_OPS_MAP.
func structOpsSelector(words []string, required bool) (objects.Selector, error) {
	if len(words) == 0 && !required {
		return objects.Selector{}, nil
	}
	sel, rest, err := objects.Maps.ParseSelector(words)
	if err != nil {
		return sel, err
	}
	return sel, noMoreArgs(rest)
}

// structOpsShow is `struct_ops show [STRUCT_OPS_MAP]`.
func structOpsShow(c *cli.Context) error {
	sel, err := structOpsSelector(c.Args().Slice(), false)
	if err != nil {
		return fmt.Errorf("struct_ops show: %w", err)
	}
	maps, err := structops.List(sel)
	if err != nil {
		return fmt.Errorf("struct_ops show: %w", err)
	}
	return out(c).StructOps(maps)
}

// structOpsDump is `struct_ops dump [STRUCT_OPS_MAP]`.
func structOpsDump(c *cli.Context) error {
	sel, err := structOpsSelector(c.Args().Slice(), false)
	if err != nil {
		return fmt.Errorf("struct_ops dump: %w", err)
	}
	dumps, err := structops.Dumps(sel)
	if err != nil {
		return fmt.Errorf("struct_ops dump: %w", err)
	}
	return out(c).StructOpsDump(dumps)
}

// structOpsRegister is `struct_ops register OBJ [LINK_DIR]`.
func structOpsRegister(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) < 1 || len(words) > 2 {
		return fmt.Errorf("struct_ops register: expected OBJ [LINK_DIR]")
	}
	dir := ""
	if len(words) == 2 {
		dir = words[1]
		if err := ensureBPFFS(c); err != nil {
			return fmt.Errorf("struct_ops register: %w", err)
		}
	}
	regs, err := structops.Register(c.Context, words[0], dir)
	if err != nil {
		return fmt.Errorf("struct_ops register: %w", err)
	}
	p := out(c)
	for _, r := range regs {
		if r.LinkID == 0 {
			p.Info("Registered %s %s id %d", r.KernelStructOps, r.Name, r.MapID)
		} else {
			p.Info("Registered %s %s map id %d link id %d", r.KernelStructOps, r.Name, r.MapID, r.LinkID)
		}
	}
	return p.Null()
}

// structOpsUnregister is `struct_ops unregister STRUCT_OPS_MAP`.
func structOpsUnregister(c *cli.Context) error {
	sel, err := structOpsSelector(c.Args().Slice(), true)
	if err != nil {
		return fmt.Errorf("struct_ops unregister: %w", err)
	}
	maps, err := structops.Unregister(sel)
	if err != nil {
		return fmt.Errorf("struct_ops unregister: %w", err)
	}
	p := out(c)
	for _, m := range maps {
		p.Info("Unregistered %s %s id %d", m.KernelStructOps, m.Name, m.ID)
	}
	return p.Null()
}
