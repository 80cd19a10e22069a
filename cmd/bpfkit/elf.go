package main

import (
	"fmt"
	"strings"

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
	sections := verb("sections", "list sections as readelf -S does, with what each means to BPF", "FILE", elfSections)
	return &cli.Command{
		Name:      "elf",
		Usage:     "read BPF object files: sections, programs, maps, symbols, relocations, globals",
		ArgsUsage: "COMMAND FILE",
		Action: func(c *cli.Context) error {
			return elfAction(c, "sections", elfSections)
		},
		Subcommands: []*cli.Command{
			sections,
			verb("symbols", "list the symbol table as readelf -s does", "FILE", elfSymbols),
			verb("programs", "list programs and subprograms: type, attach target, instructions, maps, calls, source", "FILE", elfPrograms),
			verb("maps", "list map definitions: type, key and value with their BTF types, max entries, flags, pinning, inner map", "FILE", elfMaps),
			verb("relocations", "list relocations as readelf -r does, with what each refers to",
				"FILE [section NAME]\n\nsection NAME  only the relocation section NAME, or the relocations applying to section NAME", elfRelocations),
			verb("globals", "list global variables in .rodata, .data, .bss and .kconfig, with BTF types and initial values", "FILE", elfGlobals),
			elfDumpCommand(),
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
	if e := f.Embedded; e != nil {
		fmt.Fprintf(c.App.ErrWriter, "Note: %s is not a BPF object; reading the BPF object embedded at offset 0x%x (%d bytes, 1 of %d)\n",
			words[0], e.Offset, e.Size, e.Count)
	}
	if f.BPFError != "" {
		// The listing is complete; say why the BPF meaning is not.
		fmt.Fprintf(c.App.ErrWriter, "Warning: %s: BPF meaning is partial: %s\n", words[0], oneLine(f.BPFError))
	}
	if err := action(c, f, words[1:]); err != nil {
		return fmt.Errorf("elf %s: %w", verb, err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dashList(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

// elfSections is `elf sections FILE`.
func elfSections(c *cli.Context, f *elfobj.File, words []string) error {
	if err := noMoreArgs(words); err != nil {
		return err
	}
	out := outputFor(c)
	if out.JSON {
		return out.PrintJSON(f.Sections)
	}
	header := []string{"NR", "NAME", "TYPE", "ADDRESS", "OFF", "SIZE", "ES", "FLG", "LK", "INF", "AL", "BPF"}
	rows := make([][]string, 0, len(f.Sections))
	for _, s := range f.Sections {
		rows = append(rows, []string{
			fmt.Sprint(s.Index), s.Name, s.Type, fmt.Sprintf("%016x", s.Address),
			fmt.Sprintf("%06x", s.Offset), fmt.Sprintf("%06x", s.Size), fmt.Sprintf("%02x", s.EntSize),
			s.Flags, fmt.Sprint(s.Link), fmt.Sprint(s.Info), fmt.Sprint(s.Align), s.BPF,
		})
	}
	return out.Table(header, rows)
}

// elfSymbols is `elf symbols FILE`.
func elfSymbols(c *cli.Context, f *elfobj.File, words []string) error {
	if err := noMoreArgs(words); err != nil {
		return err
	}
	out := outputFor(c)
	if out.JSON {
		return out.PrintJSON(f.Symbols)
	}
	header := []string{"NUM", "VALUE", "SIZE", "TYPE", "BIND", "VIS", "NDX", "NAME"}
	rows := make([][]string, 0, len(f.Symbols))
	for _, s := range f.Symbols {
		rows = append(rows, []string{
			fmt.Sprint(s.Num), fmt.Sprintf("%016x", s.Value), fmt.Sprint(s.Size),
			s.Type, s.Bind, s.Visibility, s.Ndx, s.Name,
		})
	}
	return out.Table(header, rows)
}

// elfPrograms is `elf programs FILE`.
func elfPrograms(c *cli.Context, f *elfobj.File, words []string) error {
	if err := noMoreArgs(words); err != nil {
		return err
	}
	out := outputFor(c)
	if out.JSON {
		return out.PrintJSON(f.Programs)
	}
	header := []string{"NAME", "SECTION", "TYPE", "ATTACH", "INSNS", "LICENSE", "MAPS", "CALLS", "SOURCE"}
	rows := make([][]string, 0, len(f.Programs))
	for _, p := range f.Programs {
		typ := p.Type
		if p.Subprogram {
			typ = "subprogram"
		}
		attach := strings.TrimSpace(p.AttachType + " " + p.AttachTo)
		if p.Return {
			attach += " (return)"
		}
		source := "-"
		if p.Source != "" {
			source = fmt.Sprintf("%s:%d", p.Source, p.Line)
		}
		rows = append(rows, []string{
			p.Name, p.Section, dash(typ), dash(attach), fmt.Sprint(p.Insns), dash(p.License),
			dashList(p.Maps), dashList(p.Calls), source,
		})
	}
	return out.Table(header, rows)
}

// elfMaps is `elf maps FILE`.
func elfMaps(c *cli.Context, f *elfobj.File, words []string) error {
	if err := noMoreArgs(words); err != nil {
		return err
	}
	out := outputFor(c)
	if out.JSON {
		return out.PrintJSON(f.Maps)
	}
	sized := func(size uint32, typ string) string {
		s := fmt.Sprintf("%dB", size)
		if typ != "" {
			s += " " + typ
		}
		return s
	}
	header := []string{"NAME", "SECTION", "TYPE", "KEY", "VALUE", "MAX ENTRIES", "FLAGS", "PINNING", "INNER MAP", "CONTENTS"}
	rows := make([][]string, 0, len(f.Maps))
	for _, m := range f.Maps {
		rows = append(rows, []string{
			m.Name, m.Section, dash(m.Type), sized(m.KeySize, m.KeyType), sized(m.ValueSize, m.ValueType),
			fmt.Sprint(m.MaxEntries), fmt.Sprintf("0x%x", m.Flags), m.Pinning, dash(m.InnerMap), dashList(m.Contents),
		})
	}
	return out.Table(header, rows)
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
	out := outputFor(c)
	if out.JSON {
		return out.PrintJSON(rels)
	}
	header := []string{"SECTION", "OFFSET", "INFO", "TYPE", "SYM VALUE", "SYMBOL", "REFERS TO"}
	var rows [][]string
	for _, rs := range rels {
		for _, r := range rs.Entries {
			value := "-"
			if r.SymbolIndex != 0 {
				value = fmt.Sprintf("%016x", r.SymbolValue)
			}
			rows = append(rows, []string{
				rs.Section, fmt.Sprintf("%016x", r.Offset), fmt.Sprintf("%016x", r.Info), r.Type,
				value, dash(r.Symbol), dash(r.RefersTo),
			})
		}
	}
	return out.Table(header, rows)
}

// elfGlobals is `elf globals FILE`.
func elfGlobals(c *cli.Context, f *elfobj.File, words []string) error {
	if err := noMoreArgs(words); err != nil {
		return err
	}
	out := outputFor(c)
	if out.JSON {
		return out.PrintJSON(f.Globals)
	}
	header := []string{"NAME", "SECTION", "OFFSET", "SIZE", "TYPE", "VALUE"}
	rows := make([][]string, 0, len(f.Globals))
	for _, g := range f.Globals {
		rows = append(rows, []string{
			g.Name, g.Section, fmt.Sprintf("0x%x", g.Offset), fmt.Sprint(g.Size), dash(g.Type), dash(g.Value),
		})
	}
	return out.Table(header, rows)
}
