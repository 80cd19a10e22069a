package main

import (
	"os"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestMisleadingInputs (issue 17, items 6 and 7): each command line once
// got a misleading message, or was silently bent; now each fails with
// exit 255 (bpftool's status for a failure) and a line that says what is wrong, and creates nothing.
func TestMisleadingInputs(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := testutil.Object(t, "loader/faults_events")
	dir := i17Dir(t, "inputs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mustBpfkit(t, "map", "create", dir+"/m", "type", "hash", "key", "1", "value", "1", "entries", "4", "name", "i17_inputs")
	create := func(name string) []string {
		return []string{"map", "create", dir + "/made", "type", "hash", "key", "4", "value", "4", "entries", "1", "name", name}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"prog", "loadall", obj, dir + "/missing/sub"}, "parent directory: stat " + dir + "/missing: no such file or directory"},
		{[]string{"prog", "loadall", obj, ""}, "empty pin directory path"},
		{[]string{"prog", "load", obj, ""}, "empty pin path"},
		{[]string{"map", "pin", "pinned", dir + "/m", ""}, "empty pin path"},
		{[]string{"btf", "dump", "file", ""}, "'file' needs a path, got an empty one"},
		{[]string{"prog", "dump", "xlated", "name", "nosuchprog_i17", "file", ""}, "'file' needs a path, got an empty one"},
		{create("a b-c"), `name "a b-c": the kernel takes only letters, digits, '_' and '.', not ' '`},
		{create("i17_é"), `not 'é'`},
		{create("i17_much_too_long_name"), "is 22 bytes long, the kernel takes at most 15"},
		{[]string{"map", "update", "pinned", dir + "/m", "key", "1_0", "value", "1"}, "1_0"},
		{[]string{"map", "update", "pinned", dir + "/m", "key", "0b1", "value", "1"}, "0b1"},
		{[]string{"map", "update", "pinned", dir + "/m", "key", "0o7", "value", "1"}, "0o7"},
		{[]string{"run", "--duration", "-1s", obj}, "--duration must be more than zero, got -1s"},
	} {
		r := bpfkit(t, c.args...)
		if r.code != 255 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q, want one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if exists(dir + "/made") {
		t.Errorf("map create left %s/made", dir)
	}
	// Without a command, prog dump prints its help and fails.
	if r := bpfkit(t, "prog", "dump"); r.code == 0 || !strings.Contains(r.stdout, "xlated") {
		t.Errorf("prog dump: exit %d, stdout %q", r.code, r.stdout)
	}
	// Byte input as bpftool's strtoul takes it.
	mustBpfkit(t, "map", "update", "pinned", dir+"/m", "key", "010", "value", "0x10")
	if out := mustBpfkit(t, "map", "lookup", "pinned", dir+"/m", "key", "8"); !strings.Contains(out, "10") {
		t.Errorf("key 010 (octal 8): lookup key 8 gave %q", out)
	}
}
