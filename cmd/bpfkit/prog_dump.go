package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

// progDumpCommand is `prog dump {xlated|jited} PROG [...]`.
func progDumpCommand() *cli.Command {
	const linum = "linum      file, line and column of each source line\n"
	xlated := &cli.Command{
		Name:  "xlated",
		Usage: "print a program's translated instructions in the kernel's syntax",
		ArgsUsage: "PROG [opcodes] [linum] [visual] [file FILE]\n\n" + progSpec + "\n\n" +
			"opcodes    the raw bytes of each instruction\n" + linum +
			"visual     a DOT control-flow graph (not with -j)\n" +
			"file FILE  write the raw instructions to FILE instead",
		Action: func(c *cli.Context) error { return progDump(c, "xlated") },
	}
	jited := &cli.Command{
		Name:  "jited",
		Usage: "disassemble a program's JIT-compiled machine code (x86-64, arm64)",
		ArgsUsage: "PROG [opcodes] [linum] [file FILE]\n\n" + progSpec + "\n\n" +
			"opcodes    the bytes of each machine instruction\n" + linum +
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
	kws := []keyword{{name: "opcodes", flag: &a.opcodes}, {name: "linum", flag: &a.linum}, {name: "visual", flag: &a.visual},
		{name: "file", value: &a.file, what: "path"}}
	if kind == "jited" {
		kws = slices.Delete(kws, 2, 3) // no visual
	}
	if err := parseKeywords(words, kws...); err != nil {
		return a, err
	}
	if a.file != "" && (a.opcodes || a.linum || a.visual) {
		return a, errors.New("'file' cannot be combined with opcodes, linum or visual")
	}
	return a, nil
}

// progDump is `prog dump xlated|jited PROG ...`.
func progDump(c *cli.Context, kind string) error {
	sel, words, err := objects.Programs.ParseSelector(c.Args().Slice())
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
	if args.visual {
		if err := out(c).TextOnly(errors.New("'visual' is not compatible with JSON output")); err != nil {
			return err
		}
	}
	progs, err := objects.Programs.Open(sel)
	if err != nil {
		return err
	}
	defer closeAll(progs)
	if args.file != "" && len(progs) > 1 {
		return errors.New("several programs match this handle")
	}

	syms := kernelSymbols()
	dumps := make([]render.ProgDump, 0, len(progs))
	for _, p := range progs {
		info, err := p.Info()
		if err != nil {
			return fmt.Errorf("dump %s: %w", kind, err)
		}
		if args.file != "" {
			return dumpToFile(c, info, kind, args.file, syms)
		}
		d := render.ProgDump{Visual: args.visual, Opts: bpfasm.PrintOptions{Opcodes: args.opcodes, Linum: args.linum}}
		if kind == "jited" {
			var lookup bpfasm.AddrLookup
			if syms != nil {
				lookup = syms.Lookup
			}
			if d.Jited, err = bpfasm.Jited(info, runtime.GOARCH, lookup); err != nil {
				return fmt.Errorf("error retrieving jit dump: %w", err)
			}
		} else {
			if d.Xlated, err = bpfasm.Xlated(info, syms); err != nil {
				return err
			}
		}
		if len(progs) > 1 {
			if d.Header, err = objects.DescribeProgram(p); err != nil {
				return err
			}
		}
		dumps = append(dumps, d)
	}
	return out(c).ProgDump(dumps)
}

// dumpToFile writes the raw translated instructions or JIT image, as
// bpftool's `file FILE` does, with mode 0600.
func dumpToFile(c *cli.Context, info *ebpf.ProgramInfo, kind, path string, syms bpfasm.SymbolTable) error {
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
	return out(c).Null()
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

func closeAll[T interface{ Close() error }](objs []T) {
	for _, o := range objs {
		o.Close()
	}
}
