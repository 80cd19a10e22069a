package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/testrun"
)

func progRunCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run a program once (or N times) on a packet or context, without attaching it",
		ArgsUsage: "PROG data_in FILE [data_out FILE [data_size_out L]] [ctx_in FILE [ctx_out FILE [ctx_size_out M]]] [repeat N]\n\n" +
			progSpec + "\nFILE may be - (standard input or output); a pcap file as data_in runs the program on each packet.",
		Action: progRun,
	}
}

// runArgs are the words of `prog run` after PROG.
type runArgs struct {
	dataIn, dataOut, ctxIn, ctxOut string
	dataSizeOut, ctxSizeOut        uint32
	repeat                         uint32
}

func parseRunArgs(words []string) (runArgs, error) {
	a := runArgs{repeat: 1}
	for len(words) > 0 {
		w := words[0]
		for _, group := range [][]string{{"data_in", "data_out", "data_size_out"}, {"ctx_in", "ctx_out", "ctx_size_out"}} {
			var matches []string
			for _, k := range group {
				if strings.HasPrefix(k, w) {
					matches = append(matches, k)
				}
			}
			if len(matches) > 1 {
				return a, fmt.Errorf("ambiguous prefix: '%s' could be '%s'", w, strings.Join(matches, "' or '"))
			}
		}
		kw, ok := matchKeyword(w, "data_in", "data_out", "data_size_out", "ctx_in", "ctx_out", "ctx_size_out", "repeat")
		if !ok {
			return a, fmt.Errorf("expected no more arguments, 'data_in', 'data_out', 'data_size_out', 'ctx_in', 'ctx_out', 'ctx_size_out' or 'repeat', got: '%s'?", w)
		}
		if len(words) < 2 {
			return a, fmt.Errorf("'%s' needs a value", kw)
		}
		v := words[1]
		words = words[2:]
		number := func(what string) (uint32, error) {
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				return 0, fmt.Errorf("can't parse %s as %s", v, what)
			}
			return uint32(n), nil
		}
		var err error
		switch kw {
		case "data_in":
			a.dataIn = v
		case "data_out":
			a.dataOut = v
		case "ctx_in":
			a.ctxIn = v
		case "ctx_out":
			a.ctxOut = v
		case "data_size_out":
			a.dataSizeOut, err = number("output data size")
		case "ctx_size_out":
			a.ctxSizeOut, err = number("output context size")
		case "repeat":
			a.repeat, err = number("repeat number")
		}
		if err != nil {
			return a, err
		}
		if a.dataIn == "-" && a.ctxIn == "-" {
			return a, errors.New("cannot use standard input for both data_in and ctx_in")
		}
	}
	if a.dataIn == "" && a.ctxIn == "" {
		return a, errors.New("expected 'data_in' or 'ctx_in'")
	}
	return a, nil
}

// progRun is `prog run`.
func progRun(c *cli.Context) error {
	sel, words, err := objects.Programs.ParseSelector(c.Args().Slice())
	if err != nil {
		return fmt.Errorf("prog run: %w", err)
	}
	a, err := parseRunArgs(words)
	if err != nil {
		return err
	}
	in := testrun.Input{DataSizeOut: a.dataSizeOut, CtxSizeOut: a.ctxSizeOut, Repeat: a.repeat}
	if in.Data, err = readRunInput(c, a.dataIn); err != nil {
		return err
	}
	if in.Ctx, err = readRunInput(c, a.ctxIn); err != nil {
		return err
	}
	prog, err := objects.Programs.OpenOne(sel)
	if err != nil {
		return fmt.Errorf("prog run: %w", err)
	}
	defer prog.Close()

	show := render.ProgRun{ShowData: a.dataOut == "-", ShowCtx: a.ctxOut == "-", Repeated: a.repeat > 1}
	if !testrun.IsPcap(in.Data) {
		res, err := testrun.Run(prog, in)
		if err != nil {
			return err
		}
		if err := writeRunOutput(a.dataOut, res.DataOut); err != nil {
			return err
		}
		if err := writeRunOutput(a.ctxOut, res.CtxOut); err != nil {
			return err
		}
		show.Result = res
		return out(c).ProgRun([]render.ProgRun{show})
	}

	// A pcap file: one run per packet; data_out FILE is a pcap file of
	// the packets as the program left them.
	pkts, linkType, err := testrun.ReadPcap(in.Data)
	if err != nil {
		return fmt.Errorf("prog run: %s: %w", a.dataIn, err)
	}
	runs := make([]render.ProgRun, len(pkts))
	outs := make([]testrun.Packet, len(pkts))
	for i, pkt := range pkts {
		in.Data = pkt.Data
		res, err := testrun.Run(prog, in)
		if err != nil {
			return fmt.Errorf("packet %d: %w", i+1, err)
		}
		runs[i] = show
		runs[i].Result, runs[i].Packet, runs[i].Length = res, i+1, len(pkt.Data)
		outs[i] = testrun.Packet{Data: res.DataOut, Info: pkt.Info}
	}
	if a.dataOut != "" && a.dataOut != "-" {
		var buf bytes.Buffer
		if err := testrun.WritePcap(&buf, linkType, outs); err != nil {
			return fmt.Errorf("prog run: write %s: %w", a.dataOut, err)
		}
		if err := os.WriteFile(a.dataOut, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("failed to open %s: %w", a.dataOut, err)
		}
	}
	if a.ctxOut != "" && a.ctxOut != "-" {
		return errors.New("ctx_out FILE takes one context: with a pcap file as data_in, use ctx_out -")
	}
	return out(c).ProgRun(runs)
}

// readRunInput reads FILE, or standard input for "-"; nil for "".
func readRunInput(c *cli.Context, name string) ([]byte, error) {
	switch name {
	case "":
		return nil, nil
	case "-":
		data, err := io.ReadAll(c.App.Reader)
		if err != nil {
			return nil, fmt.Errorf("failed to read standard input: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", name, errors.Unwrap(err))
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty", name)
	}
	return data, nil
}

// writeRunOutput writes data to FILE (not "-", which the printer shows).
func writeRunOutput(name string, data []byte) error {
	if name == "" || name == "-" || data == nil {
		return nil
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return fmt.Errorf("failed to open %s: %w", name, errors.Unwrap(err))
	}
	return nil
}
