package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/cilium/ebpf/pin"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

// nounCommand is the command of one object noun (prog, map, link): show
// (alias list, and the noun alone), then the other verbs.
func nounCommand(name, usage, what string, show cli.ActionFunc, spec string, verbs ...*cli.Command) *cli.Command {
	showCmd := &cli.Command{
		Name:      "show",
		Aliases:   []string{"list"},
		Usage:     "list " + what,
		ArgsUsage: "[" + strings.ToUpper(name) + "]\n\n" + spec,
		Action:    show,
	}
	return &cli.Command{
		Name:        name,
		Usage:       usage,
		ArgsUsage:   "COMMAND",
		Action:      showOrUnknown(show, "id", "pinned", "tag", "name"),
		Subcommands: append([]*cli.Command{showCmd}, verbs...),
	}
}

// showOrUnknown is the action of a bare noun: show when the words start
// with a selector keyword (`prog id 5`), an unknown command otherwise
// (`prog top`).
func showOrUnknown(show cli.ActionFunc, selectors ...string) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			if _, ok := matchKeyword(c.Args().First(), selectors...); !ok {
				return unknownVerb(c)
			}
		}
		return show(c)
	}
}

// showAction is `prog show`, `map show` and `link show`: parse an optional
// selector, list what it selects, add pinned paths with -f, and print.
func showAction[T pin.Pinner, I any, PI interface {
	*I
	AddPins(map[uint32][]string)
}](noun *objects.Noun[T, I], print func(p render.Printer, items []*I, one, pins bool) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		words := c.Args().Slice()
		var sel objects.Selector
		if len(words) > 0 {
			var err error
			if sel, words, err = noun.ParseSelector(words); err != nil {
				return err
			}
		}
		if err := noMoreArgs(words); err != nil {
			return err
		}
		// A listing keeps every description until it prints them: a
		// collection would find little garbage. At 20,000 links the
		// default collection ran once, concurrently, for 40 ms.
		debug.SetGCPercent(listGCPercent)
		items, err := noun.List(sel)
		if err != nil {
			return selectError(err)
		}
		withPins := c.Bool("bpffs")
		if withPins {
			pins, err := noun.PinnedPaths()
			if err != nil {
				return err
			}
			for _, it := range items {
				PI(it).AddPins(pins)
			}
		}
		// bpftool prints one object, not an array, when a selector matched
		// one object (nb_fds == 1), whatever the selector.
		return print(out(c), items, !sel.All(), withPins)
	}
}

// listGCPercent is the garbage collector's target while a listing runs:
// the heap grows to five times what is live before it collects.
const listGCPercent = 400

// pinCommand is `prog pin`, `map pin` and `link pin`.
func pinCommand[T pin.Pinner, I any](noun *objects.Noun[T, I], word, spec string) *cli.Command {
	verb := word + " pin"
	what := strings.ToUpper(word)
	return &cli.Command{
		Name:      "pin",
		Usage:     fmt.Sprintf("pin a %s at FILE on a bpffs", noun),
		ArgsUsage: what + " FILE\n\n" + spec,
		Action: catchSignals(func(c *cli.Context) error {
			sel, rest, err := noun.ParseSelector(c.Args().Slice())
			if err != nil {
				return fmt.Errorf("%s: %w", verb, err)
			}
			if len(rest) != 1 {
				return fmt.Errorf("%s: expected %s and FILE", verb, what)
			}
			if err := ensureBPFFS(c); err != nil {
				return fmt.Errorf("%s: %w", verb, err)
			}
			if err := noun.Pin(sel, rest[0]); err != nil {
				return kernelError(err, fmt.Errorf("%s: %w", verb, err))
			}
			if err := stopped(c); err != nil {
				os.Remove(rest[0])
				return fmt.Errorf("%s: %w", verb, err)
			}
			return out(c).Null()
		}),
	}
}
