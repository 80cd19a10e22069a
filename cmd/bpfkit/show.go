package main

import (
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/objects"
)

// showSpec is what `prog show`, `map show` and `link show` differ in.
type showSpec[T interface{ AddPins(map[uint32][]string) }] struct {
	parse func([]string) (objects.Selector, []string, error)
	list  func(objects.Selector) ([]T, error)
	pins  func() (map[uint32][]string, error) // pinned paths by id, for -f
	table func(items []T, withPins bool) ([]string, [][]string)
}

// action returns the command action: parse an optional selector, list
// what it selects, add pinned paths with -f, and print a table or
// bpftool's JSON (one object for `id` and `pinned`, an array otherwise).
func (s showSpec[T]) action() cli.ActionFunc {
	return func(c *cli.Context) error {
		words := c.Args().Slice()
		var sel objects.Selector
		if len(words) > 0 {
			var err error
			if sel, words, err = s.parse(words); err != nil {
				return err
			}
		}
		if err := noMoreArgs(words); err != nil {
			return err
		}
		items, err := s.list(sel)
		if err != nil {
			return err
		}
		withPins := c.Bool("bpffs")
		if withPins {
			pins, err := s.pins()
			if err != nil {
				return err
			}
			for _, it := range items {
				it.AddPins(pins)
			}
		}
		out := outputFor(c)
		if out.JSON {
			if sel.Kind == "id" || sel.Kind == "pinned" {
				return out.PrintJSON(items[0])
			}
			return out.PrintJSON(items)
		}
		return out.Table(s.table(items, withPins))
	}
}
