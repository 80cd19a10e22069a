package main

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

const linkSpec = "LINK := { id ID | pinned FILE }"

func linkCommand() *cli.Command {
	detach := &cli.Command{
		Name:      "detach",
		Usage:     "detach a link from its hook (its pins stay, defunct)",
		ArgsUsage: "LINK\n\n" + linkSpec,
		Action:    linkDetach,
	}
	return nounCommand("link", "inspect links", "links", linkShow, linkSpec, pinCommand(objects.Links, "link", linkSpec), detach)
}

// linkShow is `link show [LINK]`.
var linkShow = showAction(objects.Links, render.Printer.Links)

// linkDetach is `link detach LINK`: the kernel unhooks the link's program
// now, whoever holds the link. Every failure exits 1, as bpftool's do_detach
// returns.
func linkDetach(c *cli.Context) error {
	if err := detachLink(c); err != nil {
		return exitCode{error: err, code: 1}
	}
	return nil
}

func detachLink(c *cli.Context) error {
	sel, rest, err := objects.Links.ParseSelector(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("link detach: %w", err)
	}
	if err := noMoreArgs(rest); err != nil {
		return fmt.Errorf("link detach: %w", err)
	}
	l, err := objects.Links.OpenOne(sel)
	if err != nil {
		return fmt.Errorf("link detach: %w", err)
	}
	defer l.Close()
	if err := l.Detach(); err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			if info, ierr := l.Info(); ierr == nil {
				return fmt.Errorf("link detach: the kernel cannot detach %s links: %w", objects.LinkTypeName(info.Type), err)
			}
		}
		return fmt.Errorf("link detach: %w", err)
	}
	return out(c).Null()
}
