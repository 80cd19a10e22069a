package main

import (
	"errors"
	"fmt"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/urfave/cli/v2"
)

func elfCommand() *cli.Command {
	verb := func(name, usage, args string, action func(*cli.Context, *elfobj.File, []string) error) *cli.Command {
		return &cli.Command{
			Name:      name,
			Usage:     usage,
			ArgsUsage: args,
			Action: func(c *cli.Context) error {
				return elfAction(c, name, action)
			},
		}
	}
	// list is a verb that prints one listing of the file.
	list := func(print func(render.Printer, *elfobj.File) error) func(*cli.Context, *elfobj.File, []string) error {
		return func(c *cli.Context, f *elfobj.File, words []string) error {
			if err := noMoreArgs(words); err != nil {
				return err
			}
			return print(out(c), f)
		}
	}
	sections := verb("sections", "list sections as readelf -S does, with what each means to BPF", "FILE", list(render.Printer.ELFSections))
	return &cli.Command{
		Name:      "elf",
		Usage:     "read BPF object files: sections, programs, maps, symbols, relocations, globals",
		ArgsUsage: "COMMAND FILE",
		Action:    sections.Action,
		Subcommands: []*cli.Command{
			sections,
			verb("symbols", "list the symbol table as readelf -s does", "FILE", list(render.Printer.ELFSymbols)),
			verb("programs", "list programs and subprograms: type, attach target, instructions, maps, calls, source", "FILE", list(render.Printer.ELFPrograms)),
			verb("maps", "list map definitions: type, key and value with their BTF types, max entries, flags, pinning, inner map", "FILE", list(render.Printer.ELFMaps)),
			verb("relocations", "list relocations as readelf -r does, with what each refers to",
				"FILE [section NAME]\n\nsection NAME  only the relocation section NAME, or the relocations applying to section NAME", elfRelocations),
			verb("globals", "list global variables in .rodata, .data, .bss and .kconfig, with BTF types and initial values", "FILE", list(render.Printer.ELFGlobals)),
			{
				Name:      "dump",
				Usage:     "disassemble the programs of an object file in the kernel's syntax",
				ArgsUsage: elfDumpUsage,
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return errors.New("elf dump: expected an object file")
					}
					return elfAction(c, "dump", elfDump)
				},
			},
		},
	}
}

// elfAction opens the FILE argument and runs one elf verb on it.
func elfAction(c *cli.Context, verb string, action func(*cli.Context, *elfobj.File, []string) error) error {
	words := c.Args().Slice()
	if len(words) == 0 {
		return fmt.Errorf("elf %s: expected FILE", verb)
	}
	f, err := elfobj.Open(words[0])
	if err != nil {
		return fmt.Errorf("elf %s: %w", verb, err)
	}
	noteEmbedded(c, words[0], f)
	if f.BPFError != "" {
		// The listing is complete; say why the BPF meaning is not.
		out(c).Warn("Warning: %s: BPF meaning is partial: %s", words[0], render.OneLine(f.BPFError))
	}
	if err := action(c, f, words[1:]); err != nil {
		return fmt.Errorf("elf %s: %w", verb, err)
	}
	return nil
}

// noteEmbedded says so when the object read from path is one that another
// ELF file (a libbpf skeleton) embeds.
func noteEmbedded(c *cli.Context, path string, f *elfobj.File) {
	if e := f.Embedded; e != nil {
		out(c).Warn("Note: %s is not a BPF object; reading the BPF object embedded at offset 0x%x (%d bytes, 1 of %d)",
			path, e.Offset, e.Size, e.Count)
	}
}

// elfRelocations is `elf relocations FILE [section NAME]`.
func elfRelocations(c *cli.Context, f *elfobj.File, words []string) error {
	only := ""
	if len(words) > 0 {
		if _, ok := matchKeyword(words[0], "section"); !ok {
			return fmt.Errorf("unknown argument '%s': expected section", words[0])
		}
		if len(words) < 2 {
			return fmt.Errorf("'section' needs a name")
		}
		only, words = words[1], words[2:]
	}
	if err := noMoreArgs(words); err != nil {
		return err
	}
	rels := make([]elfobj.RelocSection, 0, len(f.Relocations))
	for _, rs := range f.Relocations {
		if only == "" || rs.Section == only || rs.Target == only {
			rels = append(rels, rs)
		}
	}
	if only != "" && len(rels) == 0 {
		return fmt.Errorf("no relocations for section '%s'", only)
	}
	return out(c).ELFRelocations(rels)
}
