package render

import (
	"fmt"
	"strings"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// The listings of `bpfkit elf`: readelf's columns and what each item means
// to BPF as a table, elfobj's structures as JSON.

func (p *textPrinter) ELFSections(f *elfobj.File) error {
	header := []string{"NR", "NAME", "TYPE", "ADDRESS", "OFF", "SIZE", "ES", "FLG", "LK", "INF", "AL", "BPF"}
	rows := make([][]string, 0, len(f.Sections))
	for _, s := range f.Sections {
		rows = append(rows, []string{
			fmt.Sprint(s.Index), s.Name, s.Type, fmt.Sprintf("%016x", s.Address),
			fmt.Sprintf("%06x", s.Offset), fmt.Sprintf("%06x", s.Size), fmt.Sprintf("%02x", s.EntSize),
			s.Flags, fmt.Sprint(s.Link), fmt.Sprint(s.Info), fmt.Sprint(s.Align), s.BPF,
		})
	}
	return table(p.w, header, rows)
}

func (p *jsonPrinter) ELFSections(f *elfobj.File) error { return p.print(f.Sections) }

func (p *textPrinter) ELFSymbols(f *elfobj.File) error {
	header := []string{"NUM", "VALUE", "SIZE", "TYPE", "BIND", "VIS", "NDX", "NAME"}
	rows := make([][]string, 0, len(f.Symbols))
	for _, s := range f.Symbols {
		rows = append(rows, []string{
			fmt.Sprint(s.Num), fmt.Sprintf("%016x", s.Value), fmt.Sprint(s.Size),
			s.Type, s.Bind, s.Visibility, s.Ndx, s.Name,
		})
	}
	return table(p.w, header, rows)
}

func (p *jsonPrinter) ELFSymbols(f *elfobj.File) error { return p.print(f.Symbols) }

func (p *textPrinter) ELFPrograms(f *elfobj.File) error {
	header := []string{"NAME", "SECTION", "TYPE", "ATTACH", "INSNS", "LICENSE", "MAPS", "CALLS", "SOURCE"}
	rows := make([][]string, 0, len(f.Programs))
	for _, prog := range f.Programs {
		typ := prog.Type
		if prog.Subprogram {
			typ = "subprogram"
		}
		attach := strings.TrimSpace(prog.AttachType + " " + prog.AttachTo)
		if prog.Return {
			attach += " (return)"
		}
		source := "-"
		if prog.Source != "" {
			source = fmt.Sprintf("%s:%d", prog.Source, prog.Line)
		}
		rows = append(rows, []string{
			prog.Name, prog.Section, orDash(typ), orDash(attach), fmt.Sprint(prog.Insns), orDash(prog.License),
			dashList(prog.Maps), dashList(prog.Calls), source,
		})
	}
	return table(p.w, header, rows)
}

func (p *jsonPrinter) ELFPrograms(f *elfobj.File) error { return p.print(f.Programs) }

func (p *textPrinter) ELFMaps(f *elfobj.File) error {
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
			m.Name, m.Section, orDash(m.Type), sized(m.KeySize, m.KeyType), sized(m.ValueSize, m.ValueType),
			fmt.Sprint(m.MaxEntries), fmt.Sprintf("0x%x", m.Flags), m.Pinning, orDash(m.InnerMap), dashList(m.Contents),
		})
	}
	return table(p.w, header, rows)
}

func (p *jsonPrinter) ELFMaps(f *elfobj.File) error { return p.print(f.Maps) }

func (p *textPrinter) ELFRelocations(rels []elfobj.RelocSection) error {
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
				value, orDash(r.Symbol), orDash(r.RefersTo),
			})
		}
	}
	return table(p.w, header, rows)
}

func (p *jsonPrinter) ELFRelocations(rels []elfobj.RelocSection) error { return p.print(rels) }

func (p *textPrinter) ELFGlobals(f *elfobj.File) error {
	header := []string{"NAME", "SECTION", "OFFSET", "SIZE", "TYPE", "VALUE"}
	rows := make([][]string, 0, len(f.Globals))
	for _, g := range f.Globals {
		rows = append(rows, []string{
			g.Name, g.Section, fmt.Sprintf("0x%x", g.Offset), fmt.Sprint(g.Size), orDash(g.Type), orDash(g.Value),
		})
	}
	return table(p.w, header, rows)
}

func (p *jsonPrinter) ELFGlobals(f *elfobj.File) error { return p.print(f.Globals) }

// ELFDump: each program under a "section S, program P (type):" line, a
// blank line between programs.
func (p *textPrinter) ELFDump(progs []ELFProgram) error {
	for i, prog := range progs {
		if i > 0 {
			fmt.Fprintln(p.w)
		}
		fmt.Fprintf(p.w, "section %s, program %s (%s):\n", prog.Section, prog.Name, prog.Type)
		if err := bpfasm.Fprint(p.w, prog.Lines, prog.Opts); err != nil {
			return err
		}
	}
	return nil
}

// elfProgramJSON is one program of `elf dump -j`.
type elfProgramJSON struct {
	Name    string            `json:"name"`
	Section string            `json:"section"`
	Type    objects.TypeName  `json:"type"`
	Insns   []bpfasm.JSONInsn `json:"insns"`
}

func (p *jsonPrinter) ELFDump(progs []ELFProgram) error {
	js := make([]elfProgramJSON, 0, len(progs))
	for _, prog := range progs {
		js = append(js, elfProgramJSON{Name: prog.Name, Section: prog.Section, Type: prog.Type, Insns: bpfasm.JSON(prog.Lines, prog.Opts)})
	}
	return p.print(js)
}
