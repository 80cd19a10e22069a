package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects/features"
)

func featureCommand() *cli.Command {
	probe := &cli.Command{
		Name:  "probe",
		Usage: "list what the kernel (or a device) can do with BPF",
		ArgsUsage: "[COMPONENT] [full] [unprivileged] [macros [prefix PREFIX]]\n\n" +
			"COMPONENT := { kernel | dev NAME }",
		Action: featureProbe,
	}
	builtins := &cli.Command{
		Name:      "list_builtins",
		Usage:     "list the names bpfkit knows",
		ArgsUsage: "GROUP\n\nGROUP := { prog_types | map_types | attach_types | link_types | helpers }",
		Action:    featureListBuiltins,
	}
	return &cli.Command{
		Name:        "feature",
		Usage:       "probe what the kernel can do with BPF",
		ArgsUsage:   "COMMAND",
		Subcommands: []*cli.Command{probe, builtins},
	}
}

// probeArgs are the words of `feature probe`.
type probeArgs struct {
	opts         features.Options
	macros       bool
	prefix       string
	unprivileged bool
	// child are the words for a child process that probes without
	// privileges: these, less 'unprivileged'.
	child []string
}

// cIdentifier is what a macro prefix must be for the #defines to compile.
var cIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func parseProbeArgs(words []string) (probeArgs, error) {
	var a probeArgs
	component := false
	for len(words) > 0 {
		w := words[0]
		kw, ok := matchKeyword(w, "kernel", "dev", "full", "macros", "prefix", "unprivileged")
		if !ok {
			return a, fmt.Errorf("expected no more arguments, 'kernel', 'dev', 'macros' or 'prefix', got: '%s'?", w)
		}
		words = words[1:]
		switch kw {
		case "kernel", "dev":
			if component {
				return a, errors.New("component to probe already specified")
			}
			component = true
			a.child = append(a.child, w)
			if kw == "dev" {
				if len(words) == 0 {
					return a, errors.New("'dev' needs a device name")
				}
				a.opts.Dev = words[0]
				a.child = append(a.child, words[0])
				words = words[1:]
			}
			continue
		case "full":
			a.opts.Full = true
		case "macros":
			if a.macros {
				return a, errors.New("'macros' already given")
			}
			a.macros = true
		case "prefix":
			if !a.macros {
				return a, errors.New("'prefix' argument can only be used after 'macros'")
			}
			if a.prefix != "" {
				return a, errors.New("'prefix' already defined")
			}
			if len(words) == 0 {
				return a, errors.New("'prefix' needs a value")
			}
			if !cIdentifier.MatchString(words[0]) {
				return a, fmt.Errorf("prefix '%s' is not a C identifier: the macros would not compile", words[0])
			}
			a.prefix = words[0]
			words = words[1:]
			continue
		case "unprivileged":
			a.unprivileged = true
			continue
		}
		a.child = append(a.child, w)
	}
	return a, nil
}

// featureProbe is `feature probe`.
func featureProbe(c *cli.Context) error {
	a, err := parseProbeArgs(c.Args().Slice())
	if err != nil {
		return err
	}
	var r *features.Report
	switch {
	case os.Getenv(features.ChildEnv) != "":
		// The child of an unprivileged probe: report to the parent.
		r, err := features.Probe(a.opts)
		if err != nil {
			return err
		}
		return features.WriteReport(c.App.Writer, r)
	case a.unprivileged:
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("feature probe: find bpfkit's executable: %w", err)
		}
		r, err = features.ProbeUnprivileged(exe, append([]string{"feature", "probe"}, a.child...))
		if err != nil {
			return fmt.Errorf("feature probe: %w", err)
		}
	default:
		if err := requireBPFCaps(); err != nil {
			return err
		}
		if r, err = features.Probe(a.opts); err != nil {
			return fmt.Errorf("feature probe: %w", err)
		}
	}
	if a.macros {
		return out(c).FeatureMacros(r, a.prefix)
	}
	return out(c).FeatureProbe(r)
}

// requireBPFCaps fails unless the process holds every capability a full
// probe needs, as bpftool does: a probe without them would report
// features as missing that are there.
func requireBPFCaps() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("feature probe: read capabilities: %w", err)
	}
	var missing []string
	for _, c := range []struct {
		name string
		bit  uint
	}{{"CAP_SYS_ADMIN", unix.CAP_SYS_ADMIN}, {"CAP_BPF", unix.CAP_BPF}, {"CAP_NET_ADMIN", unix.CAP_NET_ADMIN}, {"CAP_PERFMON", unix.CAP_PERFMON}} {
		if data[c.bit/32].Effective&(1<<(c.bit%32)) == 0 {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("feature probe: missing %s, required for full feature probing; run as root or use 'unprivileged'", strings.Join(missing, ", "))
	}
	return nil
}

// featureListBuiltins is `feature list_builtins GROUP`.
func featureListBuiltins(c *cli.Context) error {
	words := c.Args().Slice()
	if len(words) == 0 {
		return errors.New("feature list_builtins: expected 'prog_types', 'map_types', 'attach_types', 'link_types' or 'helpers'")
	}
	group, ok := matchKeyword(words[0], features.BuiltinGroups...)
	if !ok {
		group = words[0]
	}
	names, err := features.Builtins(group)
	if err != nil {
		return fmt.Errorf("feature list_builtins: %w", err)
	}
	if err := noMoreArgs(words[1:]); err != nil {
		return err
	}
	return out(c).Names(names)
}
