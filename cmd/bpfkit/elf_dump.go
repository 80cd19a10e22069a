package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// elfDumpCommand is `elf dump FILE [section SEC | program NAME] [opcodes] [linum]`.
func elfDumpCommand() *cli.Command {
	return &cli.Command{
		Name:  "dump",
		Usage: "disassemble the programs of an object file in the kernel's syntax",
		ArgsUsage: "FILE [section SEC | program NAME] [opcodes] [linum]\n\n" +
			"section SEC   only the programs of ELF section SEC\n" +
			"program NAME  only program NAME\n" +
			"opcodes       the raw bytes of each instruction\n" +
			"linum         file, line and column of each source line\n\n" +
			"Subprograms are listed inside each program that calls them; maps, global\n" +
			"data, subprograms and kfuncs are named as the object file names them.",
		Action: elfDump,
	}
}

type elfDumpArgs struct {
	file, section, program string
	opcodes, linum         bool
}

func parseElfDumpArgs(words []string) (elfDumpArgs, error) {
	var a elfDumpArgs
	if len(words) == 0 {
		return a, errors.New("expected an object file")
	}
	a.file, words = words[0], words[1:]
	for len(words) > 0 {
		kw, ok := matchKeyword(words[0], "section", "program", "opcodes", "linum")
		if !ok {
			return a, fmt.Errorf("unknown argument '%s'", words[0])
		}
		switch kw {
		case "opcodes":
			a.opcodes = true
		case "linum":
			a.linum = true
		case "section", "program":
			if len(words) < 2 {
				return a, fmt.Errorf("'%s' needs a name", kw)
			}
			if a.section != "" || a.program != "" {
				return a, errors.New("give at most one of 'section' and 'program'")
			}
			if kw == "section" {
				a.section = words[1]
			} else {
				a.program = words[1]
			}
			words = words[1:]
		}
		words = words[1:]
	}
	return a, nil
}

// elfProgramJSON is one program of `elf dump -j`.
type elfProgramJSON struct {
	Name    string            `json:"name"`
	Section string            `json:"section"`
	Type    objects.TypeName  `json:"type"`
	Insns   []bpfasm.JSONInsn `json:"insns"`
}

// elfDump is `elf dump FILE ...`.
func elfDump(c *cli.Context) error {
	args, err := parseElfDumpArgs(c.Args().Slice())
	if err != nil {
		return err
	}
	// The hardened reader vets the file first, so that every elf command
	// refuses the same malformed files with the same message.
	if _, err := elfobj.Open(args.file); err != nil {
		return fmt.Errorf("elf dump: %w", err)
	}
	progs, _, err := bpfasm.ELFPrograms(args.file)
	if err != nil {
		return fmt.Errorf("dump elf: %w", err)
	}
	var picked []bpfasm.ELFProgram
	for _, p := range progs {
		if (args.section == "" || p.Section == args.section) && (args.program == "" || p.Spec.Name == args.program) {
			picked = append(picked, p)
		}
	}
	switch {
	case len(picked) == 0 && args.program != "":
		return fmt.Errorf("no program %s in %s", args.program, args.file)
	case len(picked) == 0 && args.section != "":
		return fmt.Errorf("no programs in section %s of %s", args.section, args.file)
	case len(picked) == 0:
		return fmt.Errorf("no programs in %s", args.file)
	}

	out := outputFor(c)
	opts := bpfasm.PrintOptions{Opcodes: args.opcodes, Linum: args.linum}
	var js []elfProgramJSON
	for i, p := range picked {
		lines, err := bpfasm.ELFListing(p.Spec)
		if err != nil {
			return fmt.Errorf("dump elf: %w", err)
		}
		typ := objects.ProgTypeName(p.Spec.Type)
		if out.JSON {
			js = append(js, elfProgramJSON{Name: p.Spec.Name, Section: p.Section, Type: typ, Insns: bpfasm.JSON(lines, opts)})
			continue
		}
		if i > 0 {
			fmt.Fprintln(out.W)
		}
		fmt.Fprintf(out.W, "section %s, program %s (%s):\n", p.Section, p.Spec.Name, typ)
		if err := bpfasm.Fprint(out.W, lines, opts); err != nil {
			return err
		}
	}
	if out.JSON {
		return out.PrintJSON(js)
	}
	return nil
}
