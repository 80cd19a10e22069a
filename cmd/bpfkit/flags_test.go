package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// commandPaths lists every command of the app as the words that name it,
// nouns and verbs alike.
func commandPaths(cmds []*cli.Command, prefix []string) [][]string {
	var out [][]string
	for _, c := range cmds {
		if c.Name == "help" || c.Hidden {
			continue
		}
		p := append(append([]string(nil), prefix...), c.Name)
		out = append(out, p)
		out = append(out, commandPaths(c.Subcommands, p)...)
	}
	return out
}

// TestGlobalFlagsAnywhere: for every command, a global flag after its
// arguments does what it does before the object, as bpftool's getopt
// allows: the same exit status and the same output, JSON with -j.
func TestGlobalFlagsAnywhere(t *testing.T) {
	testutil.RequirePrivileged(t)
	// Arguments that make each command finish at once: a missing object
	// for the ones that would otherwise run until Ctrl-C or print a
	// script.
	args := map[string][]string{
		"prog tracelog":   {"nosuch"},
		"map event_pipe":  {"id", "4294967295"},
		"asm demo":        {"dry-run"},
		"completion":      {"bash"},
		"completion bash": {},
		"run":             {"/nonexistent.bpf.o"},
		"prog top":        {"name", "i11_no_such_prog"},
		"metrics serve":   {"listen", "nowhere"},
	}
	paths := commandPaths(newApp(io.Discard, io.Discard).Commands, nil)
	if len(paths) < 30 {
		t.Fatalf("only %d commands: %v", len(paths), paths)
	}
	for _, p := range paths {
		name := strings.Join(p, " ")
		words := append(append([]string(nil), p...), args[name]...)
		for _, flag := range []string{"--json", "-p", "-d", "-nf"} {
			before := bpfkit(t, append([]string{flag}, words...)...)
			after := bpfkit(t, append(append([]string(nil), words...), flag)...)
			if strings.Contains(after.stderr+after.stdout, "unexpected argument '"+flag) || strings.Contains(after.stderr+after.stdout, "flag provided but not defined") {
				t.Errorf("bpfkit %s %s: %s%s", name, flag, after.stderr, after.stdout)
				continue
			}
			if before.code != after.code {
				t.Errorf("bpfkit %s %s: exit %d, with the flag first %d", name, flag, after.code, before.code)
			}
			// Usage (a noun or verb group alone) and completion
			// scripts are text in every format.
			text := strings.HasPrefix(after.stdout, "NAME:") || p[0] == "completion" || name == "asm demo"
			if (flag == "--json" || flag == "-p") && after.stdout != "" && !text && !isJSON(after.stdout) {
				t.Errorf("bpfkit %s %s: not JSON: %.200s", name, flag, after.stdout)
			}
		}
	}
	// The issue's own example, and flags between selector words.
	_, pid := loadProg(t, &ebpf.ProgramSpec{Name: "i13_flags", Type: ebpf.SocketFilter, License: "GPL", Instructions: testutil.ReturnZero()})
	id := itoa(pid)
	want := mustBpfkit(t, "--json", "prog", "show", "id", id)
	for _, line := range [][]string{{"prog", "show", "id", id, "--json"}, {"prog", "--json", "show", "id", id}, {"prog", "show", "id", "-j", id}} {
		if got := mustBpfkit(t, line...); got != want {
			t.Errorf("bpfkit %v:\n%s\nwant\n%s", line, got, want)
		}
	}
	// A flag's value that looks like a global flag stays its value.
	if r := bpfkit(t, "run", "--iface", "-n", "/nonexistent.bpf.o"); !strings.Contains(r.stderr, "/nonexistent.bpf.o") {
		t.Errorf("run --iface -n: %+v", r)
	}
}

func isJSON(s string) bool {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	n := 0
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return n > 0
		} else if err != nil {
			return false
		}
		n++
	}
}

// TestUnknownVerbs: a word that is neither a verb nor a selector is an
// unknown command, and the error lists the commands.
func TestUnknownVerbs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prog", "nosuch"}, "unknown command 'nosuch' for prog (commands: show, dump, load, loadall, pin, tracelog, attach, detach, run, profile, top)"},
		{[]string{"map", "frobnicate"}, "unknown command 'frobnicate' for map (commands: show, dump"},
		{[]string{"link", "nosuch"}, "unknown command 'nosuch' for link (commands: show"},
		{[]string{"btf", "top"}, "unknown command 'top' for btf (commands: show, dump)"},
		{[]string{"prog", "dump", "nosuch"}, "unknown command 'nosuch' for prog dump (commands: xlated, jited)"},
	} {
		r := bpfkit(t, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("bpfkit %v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// A selector keyword after the bare noun still shows.
	if r := bpfkit(t, "prog", "id", "4294967295"); !strings.Contains(r.stderr, "no program with id 4294967295") {
		t.Errorf("prog id N: %+v", r)
	}
}
