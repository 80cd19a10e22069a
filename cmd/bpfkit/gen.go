package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/gen"
)

func genCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen",
		Usage:     "generate Go bindings or minimal BTF from object files",
		ArgsUsage: "COMMAND",
		Subcommands: []*cli.Command{
			{
				Name:      "min_core_btf",
				Usage:     "write the part of INPUT's BTF that the objects' CO-RE relocations need (BTFgen)",
				ArgsUsage: "INPUT OUTPUT OBJECT [OBJECT...]",
				Action:    genMinCoreBTF,
			},
			{
				Name:      "go",
				Usage:     "print Go bindings of an object's types, maps, programs and globals, as bpf2go writes them",
				ArgsUsage: "OBJ [package NAME] [name STEM] [type TYPE]...",
				Action:    genGo,
			},
		},
	}
}

// genGo is `gen go OBJ [package NAME] [name STEM] [type TYPE]...`.
func genGo(c *cli.Context) error {
	if err := out(c).TextOnly(errors.New("gen go prints Go source; it has no JSON form")); err != nil {
		return err
	}
	words := c.Args().Slice()
	if len(words) == 0 {
		return errors.New("gen go: expected OBJ")
	}
	obj := words[0]
	var opts gen.GoOptions
	words = words[1:]
	for len(words) > 0 {
		kw, ok := matchKeyword(words[0], "package", "name", "type")
		if !ok {
			return fmt.Errorf("expected 'package', 'name' or 'type', got: '%s'", words[0])
		}
		if len(words) < 2 {
			return fmt.Errorf("'%s' needs a value", kw)
		}
		switch kw {
		case "package":
			opts.Package = words[1]
		case "name":
			opts.Stem = words[1]
		case "type":
			opts.Types = append(opts.Types, words[1])
		}
		words = words[2:]
	}
	src, err := gen.Go(obj, opts)
	if err != nil {
		return fmt.Errorf("gen go: %w", err)
	}
	return out(c).Source(src)
}

// genMinCoreBTF is `gen min_core_btf INPUT OUTPUT OBJECT...`.
func genMinCoreBTF(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) < 3 {
		return errors.New("gen min_core_btf: expected INPUT, OUTPUT and at least one OBJECT")
	}
	data, err := gen.MinCoreBTF(words[0], words[2:])
	if err != nil {
		return fmt.Errorf("gen min_core_btf: %w", err)
	}
	if err := os.WriteFile(words[1], data, 0o644); err != nil {
		return fmt.Errorf("gen min_core_btf: %w", err)
	}
	return out(c).Null()
}
