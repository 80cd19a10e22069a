package main

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
)

// linkActionCommands are link's verbs that change things: pin and detach.
func linkActionCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:      "pin",
			Usage:     "pin a link at FILE on a bpffs",
			ArgsUsage: "LINK FILE\n\n" + linkSpec,
			Action:    linkPin,
		},
		{
			Name:      "detach",
			Usage:     "detach a link from its hook (its pins stay, defunct)",
			ArgsUsage: "LINK\n\n" + linkSpec,
			Action:    linkDetach,
		},
	}
}

// linkPin is `link pin LINK FILE`.
func linkPin(c *cli.Context) error {
	sel, rest, err := objects.ParseLinkSelector(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("link pin: %w", err)
	}
	if len(rest) != 1 {
		return errors.New("link pin: expected LINK and FILE")
	}
	if err := ensureBPFFS(c); err != nil {
		return fmt.Errorf("link pin: %w", err)
	}
	if err := objects.CheckPinPath(rest[0]); err != nil {
		return fmt.Errorf("link pin: %w", err)
	}
	l, err := objects.OpenLink(sel)
	if err != nil {
		return fmt.Errorf("link pin: %w", err)
	}
	defer l.Close()
	if err := l.Pin(rest[0]); err != nil {
		return fmt.Errorf("link pin: %w", err)
	}
	return outputFor(c).Null()
}

// linkDetach is `link detach LINK`: the kernel unhooks the link's program
// now, whoever holds the link.
func linkDetach(c *cli.Context) error {
	sel, rest, err := objects.ParseLinkSelector(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("link detach: %w", err)
	}
	if err := noMoreArgs(rest); err != nil {
		return fmt.Errorf("link detach: %w", err)
	}
	l, err := objects.OpenLink(sel)
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
	return outputFor(c).Null()
}
