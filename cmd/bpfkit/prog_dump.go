package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/objects"
)

// progDumpCommand is `prog dump {xlated|jited} PROG [...]`.
func progDumpCommand() *cli.Command {
	xlated := &cli.Command{
		Name:  "xlated",
		Usage: "print a program's translated instructions in the kernel's syntax",
		ArgsUsage: "PROG [opcodes] [linum] [visual] [file FILE]\n\n" + progSpec + "\n\n" +
			"opcodes    the raw bytes of each instruction\n" +
			"linum      file, line and column of each source line\n" +
			"visual     a DOT control-flow graph (not with -j)\n" +
			"file FILE  write the raw instructions to FILE instead",
		Action: func(c *cli.Context) error { return progDump(c, "xlated") },
	}
	jited := &cli.Command{
		Name:  "jited",
		Usage: "disassemble a program's JIT-compiled machine code (x86-64, arm64)",
		ArgsUsage: "PROG [opcodes] [linum] [file FILE]\n\n" + progSpec + "\n\n" +
			"opcodes    the bytes of each machine instruction\n" +
			"linum      file, line and column of each source line\n" +
			"file FILE  write the raw image to FILE instead",
		Action: func(c *cli.Context) error { return progDump(c, "jited") },
	}
	return &cli.Command{
		Name:        "dump",
		Usage:       "dump a program's instructions",
		ArgsUsage:   "{ xlated | jited } PROG [...]",
		Subcommands: []*cli.Command{xlated, jited},
	}
}

// dumpArgs are the keywords after PROG.
type dumpArgs struct {
	opcodes, linum, visual bool
	file                   string
}

func parseDumpArgs(kind string, words []string) (dumpArgs, error) {
	var a dumpArgs
	keywords := []string{"opcodes", "linum", "visual", "file"}
	if kind == "jited" {
		keywords = []string{"opcodes", "linum", "file"}
	}
	for len(words) > 0 {
		kw, ok := matchKeyword(words[0], keywords...)
		if !ok {
			return a, fmt.Errorf("unknown argument '%s'", words[0])
		}
		switch kw {
		case "opcodes":
			a.opcodes = true
		case "linum":
			a.linum = true
		case "visual":
			a.visual = true
		case "file":
			if len(words) < 2 {
				return a, errors.New("'file' needs a path")
			}
			a.file = words[1]
			words = words[1:]
		}
		words = words[1:]
	}
	if a.file != "" && (a.opcodes || a.linum || a.visual) {
		return a, errors.New("'file' cannot be combined with opcodes, linum or visual")
	}
	return a, nil
}

// progDump is `prog dump xlated|jited PROG ...`.
func progDump(c *cli.Context, kind string) error {
	sel, words, err := objects.ParseProgSelector(c.Args().Slice())
	if err != nil {
		return err
	}
	if sel.All() {
		return errors.New("expected a program: " + progSpec)
	}
	args, err := parseDumpArgs(kind, words)
	if err != nil {
		return err
	}
	out := outputFor(c)
	if args.visual && out.JSON {
		return errors.New("'visual' is not compatible with JSON output")
	}
	progs, err := objects.OpenPrograms(sel)
	if err != nil {
		return err
	}
	defer closeAll(progs)
	if len(progs) == 0 {
		return fmt.Errorf("no program matches %s", sel)
	}
	if args.file != "" && len(progs) > 1 {
		return errors.New("several programs match this handle")
	}

	syms := kernelSymbols()
	opts := bpfasm.PrintOptions{Opcodes: args.opcodes, Linum: args.linum}
	var jsonProgs []any
	for i, p := range progs {
		info, err := p.Info()
		if err != nil {
			return fmt.Errorf("dump %s: %w", kind, err)
		}
		if args.file != "" {
			return dumpToFile(c, out, info, kind, args.file, syms)
		}
		body, err := dumpBody(info, kind, args, opts, syms, out.JSON)
		if err != nil {
			return err
		}
		if len(progs) == 1 {
			if out.JSON {
				return out.PrintJSON(body)
			}
			return body.(func(io.Writer) error)(out.W)
		}
		hdr, err := objects.ProgramInfo(p)
		if err != nil {
			return err
		}
		if out.JSON {
			jsonProgs = append(jsonProgs, progWithInsns{progHeader: headerOf(hdr), Insns: body})
			continue
		}
		fmt.Fprintln(out.W, progHeaderPlain(hdr))
		if err := body.(func(io.Writer) error)(out.W); err != nil {
			return err
		}
		if i != len(progs)-1 {
			fmt.Fprintln(out.W)
		}
	}
	if out.JSON {
		return out.PrintJSON(jsonProgs)
	}
	return nil
}

// dumpBody returns the JSON value of one dump, or a function printing it.
func dumpBody(info *ebpf.ProgramInfo, kind string, args dumpArgs, opts bpfasm.PrintOptions, syms bpfasm.SymbolTable, asJSON bool) (any, error) {
	if kind == "jited" {
		var lookup bpfasm.AddrLookup
		if syms != nil {
			lookup = syms.Lookup
		}
		funcs, err := bpfasm.Jited(info, runtime.GOARCH, lookup)
		if err != nil {
			return nil, fmt.Errorf("error retrieving jit dump: %w", err)
		}
		if asJSON {
			return bpfasm.JitedJSON(funcs, opts), nil
		}
		return func(w io.Writer) error { return bpfasm.FprintJited(w, funcs, opts) }, nil
	}
	build := bpfasm.Xlated
	if args.visual {
		build = bpfasm.XlatedGraph
	}
	lines, err := build(info, syms)
	if err != nil {
		return nil, err
	}
	if asJSON {
		return bpfasm.JSON(lines, opts), nil
	}
	if args.visual {
		return func(w io.Writer) error { return bpfasm.FprintDOT(w, lines, opts) }, nil
	}
	return func(w io.Writer) error { return bpfasm.Fprint(w, lines, opts) }, nil
}

// dumpToFile writes the raw translated instructions or JIT image, as
// bpftool's `file FILE` does, with mode 0600.
func dumpToFile(c *cli.Context, out *output, info *ebpf.ProgramInfo, kind, path string, syms bpfasm.SymbolTable) error {
	var data []byte
	if kind == "jited" {
		img, ok := info.JitedInsns()
		if !ok || len(img) == 0 {
			return errors.New("error retrieving jit dump: no instructions returned or kernel.kptr_restrict set?")
		}
		data = img
	} else {
		lines, err := bpfasm.Xlated(info, syms)
		if err != nil {
			return err
		}
		data = bpfasm.RawBytes(lines)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("can't write %s: %w", path, err)
	}
	return out.Null()
}

// kernelSymbols loads /proc/kallsyms; without it calls print as addresses,
// as bpftool prints them.
func kernelSymbols() bpfasm.SymbolTable {
	ks, err := objects.LoadKallsyms()
	if err != nil || ks.Len() == 0 {
		return nil
	}
	return ks
}

// progHeader is the part of `prog show` bpftool repeats before each dump
// when a selector matches several programs.
type progHeader struct {
	ID              uint32           `json:"id"`
	Type            objects.TypeName `json:"type"`
	Name            string           `json:"name,omitempty"`
	Tag             string           `json:"tag"`
	GPLCompatible   bool             `json:"gpl_compatible"`
	RunTimeNs       *uint64          `json:"run_time_ns,omitempty"`
	RunCnt          *uint64          `json:"run_cnt,omitempty"`
	RecursionMisses uint64           `json:"recursion_misses,omitempty"`
}

type progWithInsns struct {
	progHeader
	Insns any `json:"insns"`
}

func headerOf(p *objects.Program) progHeader {
	return progHeader{ID: p.ID, Type: p.Type, Name: p.Name, Tag: p.Tag, GPLCompatible: p.GPLCompatible,
		RunTimeNs: p.RunTimeNs, RunCnt: p.RunCnt, RecursionMisses: p.RecursionMisses}
}

// progHeaderPlain is the first line of bpftool's plain `prog show`.
func progHeaderPlain(p *objects.Program) string {
	s := fmt.Sprintf("%d: %s  ", p.ID, p.Type)
	if p.Name != "" {
		s += fmt.Sprintf("name %s  ", p.Name)
	}
	s += "tag " + p.Tag
	if p.GPLCompatible {
		s += "  gpl"
	}
	if p.RunTimeNs != nil && *p.RunTimeNs != 0 {
		s += fmt.Sprintf(" run_time_ns %d run_cnt %d", *p.RunTimeNs, derefU64(p.RunCnt))
	}
	if p.RecursionMisses != 0 {
		s += fmt.Sprintf(" recursion_misses %d", p.RecursionMisses)
	}
	return s
}

func derefU64(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
