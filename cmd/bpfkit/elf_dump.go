package main

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

const elfDumpUsage = "FILE [section SEC | program NAME] [opcodes] [linum]\n\n" +
	"section SEC   only the programs of ELF section SEC\n" +
	"program NAME  only program NAME\n" +
	"opcodes       the raw bytes of each instruction\n" +
	"linum         file, line and column of each source line\n\n" +
	"Subprograms are listed inside each program that calls them; maps, global\n" +
	"data, subprograms and kfuncs are named as the object file names them."

type elfDumpArgs struct {
	section, program string
	opcodes, linum   bool
}

// parseElfDumpArgs parses the words after FILE.
func parseElfDumpArgs(words []string) (elfDumpArgs, error) {
	var a elfDumpArgs
	err := parseKeywords(words, keyword{name: "section", value: &a.section, what: "name"},
		keyword{name: "program", value: &a.program, what: "name"},
		keyword{name: "opcodes", flag: &a.opcodes}, keyword{name: "linum", flag: &a.linum})
	if err == nil && a.section != "" && a.program != "" {
		err = errors.New("give at most one of 'section' and 'program'")
	}
	return a, err
}

// elfDump is `elf dump FILE ...`.
func elfDump(c *cli.Context, f *elfobj.File, words []string) error {
	args, err := parseElfDumpArgs(words)
	if err != nil {
		return err
	}
	spec, err := f.CollectionSpec()
	if err != nil {
		return fmt.Errorf("read object %s: %w", c.Args().First(), err)
	}
	file := c.Args().First()
	var picked []*ebpf.ProgramSpec
	for _, name := range f.ProgramOrder() {
		p := spec.Programs[name]
		if (args.section == "" || p.SectionName == args.section) && (args.program == "" || p.Name == args.program) {
			picked = append(picked, p)
		}
	}
	switch {
	case len(picked) == 0 && args.program != "":
		return fmt.Errorf("no program %s in %s", args.program, file)
	case len(picked) == 0 && args.section != "":
		return fmt.Errorf("no programs in section %s of %s", args.section, file)
	case len(picked) == 0:
		return fmt.Errorf("no programs in %s", file)
	}
	opts := bpfasm.PrintOptions{Opcodes: args.opcodes, Linum: args.linum}
	progs := make([]render.ELFProgram, 0, len(picked))
	for _, p := range picked {
		lines, err := bpfasm.ELFListing(p)
		if err != nil {
			return err
		}
		progs = append(progs, render.ELFProgram{Name: p.Name, Section: p.SectionName, Type: objects.ProgTypeName(p.Type), Lines: lines, Opts: opts})
	}
	return out(c).ELFDump(progs)
}
