package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/render"
	"github.com/bpfkit/bpfkit/objects"
)

func init() {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version"}
	cli.VersionPrinter = func(c *cli.Context) { out(c).Version(c.App.Version) }
}

// newApp builds the command tree. Tests run it in-process with buffers.
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                   "bpfkit",
		Usage:                  "inspect, dump and load eBPF programs, maps, links and object files",
		UsageText:              "bpfkit [GLOBAL OPTIONS] OBJECT COMMAND [ARGS]\n\nOBJECT := { prog | map | link | btf | elf | asm | run | net | cgroup | perf | iter | struct_ops | feature | gen | metrics }",
		Version:                version,
		Writer:                 stdout,
		ErrWriter:              stderr,
		EnableBashCompletion:   true,
		UseShortOptionHandling: true,
		Suggest:                true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "print JSON, as bpftool -j does"},
			&cli.BoolFlag{Name: "pretty", Aliases: []string{"p"}, Usage: "print indented JSON (implies --json)"},
			&cli.BoolFlag{Name: "debug", Aliases: []string{"d"}, Usage: "print verifier logs in full and more detail"},
			&cli.BoolFlag{Name: "bpffs", Aliases: []string{"f"}, Usage: "show the paths where objects are pinned"},
			&cli.BoolFlag{Name: "nomount", Aliases: []string{"n"}, Usage: "never mount bpffs or tracefs"},
		},
		Commands: []*cli.Command{
			progCommand(),
			mapCommand(),
			linkCommand(),
			btfCommand(),
			asmCommand(),
			elfCommand(),
			runCommand(),
			netCommand(),
			cgroupCommand(),
			perfCommand(),
			iterCommand(),
			structOpsCommand(),
			featureCommand(),
			genCommand(),
			metricsCommand(),
			completionCommand(),
		},
		// The output format is chosen here, once, for every command.
		Before: func(c *cli.Context) error {
			c.App.Metadata = map[string]any{printerKey: newPrinter(c)}
			return nil
		},
		// Errors are printed by run, once, in the chosen format.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return err
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.ShowAppHelp(c)
			}
			return fmt.Errorf("unknown object '%s': see 'bpfkit help'", c.Args().First())
		},
	}
	prepareCommands(app.Commands)
	return app
}

// prepareCommands makes every command report usage errors as one line (no
// help text on stdout) and gives commands that only group verbs an action
// that names an unknown verb.
func prepareCommands(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return err }
		if c.Action == nil && len(c.Subcommands) > 0 {
			c.Action = unknownVerb
		}
		prepareCommands(c.Subcommands)
	}
}

// unknownVerb is the action of commands that only group verbs.
func unknownVerb(c *cli.Context) error {
	if c.NArg() == 0 {
		// Help, then a failure, as bpftool exits non-zero when the
		// command is missing.
		if err := cli.ShowSubcommandHelp(c); err != nil {
			return err
		}
		return silentExit{1}
	}
	var path []string
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != c.App.Name {
			path = append([]string{ctx.Command.Name}, path...)
		}
	}
	name := strings.Join(path, " ")
	var verbs []string
	for _, sub := range c.Command.Subcommands {
		if !sub.Hidden && sub.Name != "help" {
			verbs = append(verbs, sub.Name)
		}
	}
	return fmt.Errorf("unknown command '%s' for %s (commands: %s): see 'bpfkit %s help'", c.Args().First(), name, strings.Join(verbs, ", "), name)
}

// globalFlags are the global options, as one word each; shortGlobals
// their one-letter forms, which combine (-jf).
var (
	globalFlags  = []string{"-j", "--json", "-json", "-p", "--pretty", "-pretty", "-d", "--debug", "-debug", "-f", "--bpffs", "-bpffs", "-n", "--nomount", "-nomount"}
	shortGlobals = "jpdfn"
)

// isGlobalFlag reports whether a word is a global option.
func isGlobalFlag(a string) bool {
	if slices.Contains(globalFlags, a) {
		return true
	}
	return len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.Trim(a[1:], shortGlobals) == ""
}

// hoistGlobalFlags moves global options found after the object to the
// front, as bpftool's getopt_long permutes them: `bpfkit prog show id 5
// --json` is `bpfkit --json prog show id 5`. A word that is the value of
// a command's flag (`--set -d` would be one) and everything after `--`
// stay where they are.
func hoistGlobalFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	valued := map[string]bool{}
	var walk func(cmds []*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			for _, f := range c.Flags {
				if _, isBool := f.(*cli.BoolFlag); isBool {
					continue
				}
				for _, n := range f.Names() {
					valued["-"+n], valued["--"+n] = true, true
				}
			}
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	var globals, rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case isGlobalFlag(a) && (i == 1 || !valued[args[i-1]]):
			globals = append(globals, a)
		default:
			rest = append(rest, a)
		}
	}
	return append(append([]string{args[0]}, globals...), rest...)
}

// run executes one command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	args = expandPrefixes(app, hoistGlobalFlags(app, args))
	err := app.Run(args)
	if err == nil {
		return 0
	}
	var silent silentExit
	if errors.As(err, &silent) {
		return silent.code
	}
	// Without privilege the kernel says only EPERM or EACCES: say what is
	// missing, wherever the error came from.
	if os.Geteuid() != 0 && !errors.Is(err, objects.ErrPermission) &&
		(errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, os.ErrPermission)) {
		err = fmt.Errorf("%w (%w)", err, objects.ErrPermission)
	}
	json, pretty := wantsJSON(args)
	render.New(stdout, stderr, render.Format{JSON: json, Pretty: pretty}).Error(err)
	var ec cli.ExitCoder
	if errors.As(err, &ec) && ec.ExitCode() != 0 {
		return ec.ExitCode()
	}
	return exitFailure
}

// Exit codes, as bpftool's: a command's return value truncated to 8 bits.
// Most failures return -1 (255); a verb whose kernel call fails returns
// the negated errno (kernelError); docs/prog.md lists them.
const exitFailure = 255

// exitCode is an error that ends bpfkit with a given exit status.
type exitCode struct {
	error
	code int
}

func (e exitCode) ExitCode() int { return e.code }
func (e exitCode) Unwrap() error { return e.error }

// kernelError is msg, the report of a verb whose kernel call failed with
// cause, with bpftool v7.8.0's exit status for it: the negated errno in 8
// bits (ENOENT 254, EEXIST 239, EBUSY 240, EPERM 255). Without an errno in
// cause it is msg as it is. A pin path that exists is 255 (7.8 checks the
// path before pinning; 7.1 exits 239), and so is an id that names no
// program or map; a missing link id is the kernel's ENOENT, 254, as
// bpftool's link_parse_fd returns it.
func kernelError(cause, msg error) error {
	var errno unix.Errno
	var missing *objects.NoSuchID
	switch {
	case errors.As(cause, &missing):
		if missing.Noun != objects.Links.String() {
			return msg
		}
		errno = unix.ENOENT
	case errors.As(cause, &errno) && errno != 0:
	case errors.Is(cause, ebpf.ErrKeyNotExist):
		errno = unix.ENOENT
	default:
		return msg
	}
	return exitCode{error: msg, code: errnoExit(errno)}
}

// selectError is err, the failure of a selector, with bpftool's exit
// status for it: 254 for a link id that names nothing, else 255.
func selectError(err error) error {
	var missing *objects.NoSuchID
	if errors.As(err, &missing) {
		return kernelError(err, err)
	}
	return err
}

// errnoExit is bpftool's exit status for a call that failed with errno.
func errnoExit(errno unix.Errno) int { return int(-errno) & 0xff }

const printerKey = "printer"

// newPrinter makes the printer the global flags ask for.
func newPrinter(c *cli.Context) render.Printer {
	return render.New(c.App.Writer, c.App.ErrWriter, render.Format{JSON: c.Bool("json"), Pretty: c.Bool("pretty")})
}

// out is the printer of the running command.
func out(c *cli.Context) render.Printer {
	if p, ok := c.App.Metadata[printerKey].(render.Printer); ok {
		return p
	}
	return newPrinter(c) // before Before ran: --version, help
}

// silentExit ends a command with a non-zero exit status once the command
// has printed its own answer, as bpftool's `map lookup` does for a missing
// key ("Not found", or null with -j, and exit status 254).
type silentExit struct{ code int }

func (e silentExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// wantsJSON reports whether the global flags before the object ask for
// JSON, and whether pretty JSON.
func wantsJSON(args []string) (json, pretty bool) {
	for _, a := range args[1:] {
		if !strings.HasPrefix(a, "-") {
			break
		}
		switch {
		case a == "-j" || a == "--json" || a == "-json":
			json = true
		case a == "-p" || a == "--pretty" || a == "-pretty":
			json, pretty = true, true
		case len(a) > 2 && a[1] != '-': // combined short flags, e.g. -jf
			json = json || strings.ContainsAny(a[1:], "jp")
			pretty = pretty || strings.Contains(a[1:], "p")
		}
	}
	return json, pretty
}

// expandPrefixes rewrites unique prefixes of objects and verbs to their
// full names, as bpftool's is_prefix matching does: `bpfkit p s` is
// `bpfkit prog show`. The first command in table order wins.
func expandPrefixes(app *cli.App, args []string) []string {
	out := append([]string(nil), args...)
	cmds := app.Commands
	for i := 1; i < len(out) && cmds != nil; i++ {
		a := out[i]
		if strings.HasPrefix(a, "-") {
			continue
		}
		cmd := findPrefix(cmds, a)
		if cmd == nil {
			return out
		}
		out[i] = cmd.Name
		cmds = cmd.Subcommands
	}
	return out
}

func findPrefix(cmds []*cli.Command, word string) *cli.Command {
	for _, c := range cmds {
		for _, n := range c.Names() {
			if n == word {
				return c
			}
		}
	}
	for _, c := range cmds {
		for _, n := range c.Names() {
			if strings.HasPrefix(n, word) {
				return c
			}
		}
	}
	return nil
}

// matchKeyword matches word against bpftool keywords by unique prefix.
func matchKeyword(word string, choices ...string) (string, bool) {
	return objects.MatchPrefix(word, choices...)
}

// ensureBPFFS mounts bpffs when a command needs it, unless -n says not to.
func ensureBPFFS(c *cli.Context) error {
	if c.Bool("nomount") {
		return nil
	}
	return objects.EnsureBPFFS()
}

// ensureTracefs mounts tracefs when a command needs it, unless -n.
func ensureTracefs(c *cli.Context) error {
	if c.Bool("nomount") {
		return nil
	}
	return objects.EnsureTracefs()
}

// keyword is one bpftool keyword after a command's object: a flag, or a
// word that takes a value (what names what the value is, for errors).
type keyword struct {
	name string
	flag *bool
	// value receives the word after the keyword.
	value *string
	what  string
}

// parseKeywords parses bpftool keywords, in any order, each by unique
// prefix (the first keyword in kws wins).
func parseKeywords(words []string, kws ...keyword) error {
	names := make([]string, len(kws))
	for i, k := range kws {
		names[i] = k.name
	}
	for len(words) > 0 {
		name, ok := matchKeyword(words[0], names...)
		if !ok {
			return fmt.Errorf("unknown argument '%s'", words[0])
		}
		k := kws[slices.Index(names, name)]
		if k.flag != nil {
			*k.flag = true
			words = words[1:]
			continue
		}
		if len(words) < 2 {
			return fmt.Errorf("'%s' needs a %s", name, k.what)
		}
		if words[1] == "" && k.what == "path" {
			return fmt.Errorf("'%s' needs a %s, got an empty one", name, k.what)
		}
		*k.value = words[1]
		words = words[2:]
	}
	return nil
}

// noMoreArgs fails when words are left over after a command's arguments.
func noMoreArgs(words []string) error {
	if len(words) > 0 {
		return fmt.Errorf("unexpected argument '%s'", words[0])
	}
	return nil
}
