package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/attachments"
)

const netAttachSpec = "ATTACH_TYPE := { xdp | xdpgeneric | xdpdrv | xdpoffload | tcx_ingress | tcx_egress }\n" + progSpec

func netCommand() *cli.Command {
	show := &cli.Command{
		Name:      "show",
		Aliases:   []string{"list"},
		Usage:     "list the programs on network hooks: xdp, tc (tcx, netkit, cls_bpf), flow_dissector, netfilter",
		ArgsUsage: "[dev DEVNAME]",
		Action:    netShow,
	}
	attach := &cli.Command{
		Name:      "attach",
		Usage:     "attach a program to a network device's XDP or tcx hook",
		ArgsUsage: "ATTACH_TYPE PROG dev DEVNAME [overwrite | prepend]\n\n" + netAttachSpec,
		Action:    catchSignals(netAttach),
	}
	detach := &cli.Command{
		Name:      "detach",
		Usage:     "detach the program of a network device's XDP or tcx hook",
		ArgsUsage: "ATTACH_TYPE dev DEVNAME\n\n" + netAttachSpec,
		Action:    catchSignals(netDetach),
	}
	return &cli.Command{
		Name:        "net",
		Usage:       "where programs run on the network: show, attach, detach",
		ArgsUsage:   "COMMAND",
		Action:      netShow,
		Subcommands: []*cli.Command{show, attach, detach},
	}
}

// parseDev parses `dev DEVNAME` from the front of words.
func parseDev(words []string) (string, []string, error) {
	if len(words) == 0 {
		return "", nil, fmt.Errorf("expected 'dev DEVNAME'")
	}
	if _, ok := matchKeyword(words[0], "dev"); !ok {
		return "", nil, fmt.Errorf("expected 'dev', got: '%s'", words[0])
	}
	if len(words) < 2 {
		return "", nil, fmt.Errorf("'dev' needs a device name")
	}
	return words[1], words[2:], nil
}

// netShow is `net show [dev DEVNAME]`.
func netShow(c *cli.Context) error {
	words := c.Args().Slice()
	index := 0
	if len(words) > 0 {
		dev, rest, err := parseDev(words)
		if err != nil {
			return fmt.Errorf("net show: %w", err)
		}
		if err := noMoreArgs(rest); err != nil {
			return fmt.Errorf("net show: %w", err)
		}
		if index, err = attachments.DeviceIndex(dev); err != nil {
			return fmt.Errorf("net show: %w", err)
		}
	}
	n, err := attachments.Net(index)
	if err != nil {
		return fmt.Errorf("net show: %w", err)
	}
	return out(c).Net(n)
}

// netAttach is `net attach ATTACH_TYPE PROG dev DEVNAME [overwrite|prepend]`.
func netAttach(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) < 5 {
		return fmt.Errorf("net attach: expected ATTACH_TYPE PROG dev DEVNAME")
	}
	hook, err := attachments.ParseNetHook(words[0])
	if err != nil {
		return fmt.Errorf("net attach: %w", err)
	}
	sel, rest, err := objects.Programs.ParseSelector(words[1:])
	if err != nil {
		return fmt.Errorf("net attach: %w", err)
	}
	dev, rest, err := parseDev(rest)
	if err != nil {
		return fmt.Errorf("net attach: %w", err)
	}
	var opts attachments.NetAttachOptions
	if len(rest) > 0 {
		kw, ok := matchKeyword(rest[0], "overwrite", "prepend")
		if !ok {
			return fmt.Errorf("net attach: expected 'overwrite' or 'prepend', got: '%s'", rest[0])
		}
		opts.Overwrite, opts.Prepend = kw == "overwrite", kw == "prepend"
		if err := noMoreArgs(rest[1:]); err != nil {
			return fmt.Errorf("net attach: %w", err)
		}
	}
	prog, err := objects.Programs.OpenOne(sel)
	if err != nil {
		return fmt.Errorf("net attach: %w", err)
	}
	defer prog.Close()
	if err := stopped(c); err != nil {
		return fmt.Errorf("net attach: %w", err)
	}
	if err := attachments.NetAttach(hook, prog, dev, opts); err != nil {
		return fmt.Errorf("net attach: %w", err)
	}
	return out(c).Null()
}

// netDetach is `net detach ATTACH_TYPE dev DEVNAME`.
func netDetach(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) < 3 {
		return fmt.Errorf("net detach: expected ATTACH_TYPE dev DEVNAME")
	}
	hook, err := attachments.ParseNetHook(words[0])
	if err != nil {
		return fmt.Errorf("net detach: %w", err)
	}
	dev, rest, err := parseDev(words[1:])
	if err != nil {
		return fmt.Errorf("net detach: %w", err)
	}
	if err := noMoreArgs(rest); err != nil {
		return fmt.Errorf("net detach: %w", err)
	}
	if err := stopped(c); err != nil {
		return fmt.Errorf("net detach: %w", err)
	}
	if err := attachments.NetDetach(hook, dev); err != nil {
		return fmt.Errorf("net detach: %w", err)
	}
	return out(c).Null()
}
