package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

func TestPrefixesAndDefaults(t *testing.T) {
	testutil.RequirePrivileged(t)
	_, id := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_prefix", Type: ebpf.SocketFilter, License: "MIT", Instructions: testutil.ReturnZero()})
	ids := strings.TrimSpace(mustBpfkit(t, "-j", "prog", "show", "id", itoa(id)))
	for _, args := range [][]string{
		{"-j", "p", "s", "id", itoa(id)},
		{"-j", "prog", "list", "id", itoa(id)},
		{"-j", "pr", "sh", "i", itoa(id)},
		{"--json", "prog", "show", "id", itoa(id)},
	} {
		if got := strings.TrimSpace(mustBpfkit(t, args...)); got != ids {
			t.Errorf("bpfkit %v:\n got %s\nwant %s", args, got, ids)
		}
	}
	// A bare object lists, as `show` does.
	if out := mustBpfkit(t, "prog"); !strings.Contains(out, "bpfkit_t_prefix") {
		t.Errorf("bare prog did not list programs:\n%s", out)
	}
	if out := mustBpfkit(t, "m"); !strings.HasPrefix(out, "ID") {
		t.Errorf("bare m did not list maps:\n%s", out)
	}
	// -p implies -j and indents.
	if out := mustBpfkit(t, "-p", "prog", "show", "id", itoa(id)); !strings.Contains(out, "\n    \"id\": ") {
		t.Errorf("-p output is not indented JSON:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := testutil.PinDir(t)
	m, _ := newMap(t, &ebpf.MapSpec{Name: "bpfkit_t_errmap", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	mapPin := filepath.Join(dir, "map")
	if err := m.Pin(mapPin); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "gone")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prog", "show", "id", "4294967295"}, "no program with id 4294967295"},
		{[]string{"prog", "show", "id", "x"}, "can't parse x as ID"},
		{[]string{"prog", "show", "bogus", "1"}, "expected 'id', 'pinned', 'tag' or 'name', got: 'bogus'"},
		{[]string{"prog", "show", "id"}, "'id' needs a value"},
		{[]string{"prog", "show", "tag", "xyz"}, "want 16 hex digits"},
		{[]string{"prog", "show", "name", "no_such_program_here"}, "no program with name no_such_program_here"},
		{[]string{"prog", "show", "tag", "0000000000000000"}, "no program with tag 0000000000000000"},
		{[]string{"prog", "show", "pinned", mapPin}, "incorrect object type behind pin " + mapPin + ": map, want prog"},
		{[]string{"prog", "show", "pinned", stale}, "no such file or directory"},
		{[]string{"prog", "show", "pinned", "/etc/hostname"}, "not on a bpf filesystem"},
		{[]string{"map", "show", "id", "4294967295"}, "no map with id 4294967295"},
		{[]string{"map", "show", "name", "a_name_longer_than_15"}, "at most 15 characters"},
		{[]string{"link", "show", "id", "4294967295"}, "no link with id 4294967295"},
		{[]string{"link", "show", "name", "x"}, "expected 'id' or 'pinned'"},
		{[]string{"prog", "show", "id", "1", "extra"}, "unexpected argument 'extra'"},
		{[]string{"prog", "show", "pinned", dir}, "is a directory"},
		{[]string{"nosuchobject"}, "unknown object 'nosuchobject'"},
		{[]string{"asm", "nosuchverb"}, "unknown command 'nosuchverb' for asm"},
		{[]string{"prog", "dump", "nosuchverb", "id", "1"}, "unknown command 'nosuchverb' for prog dump"},
		{[]string{"completion", "fish"}, "unknown command 'fish' for completion"},
		{[]string{"prog", "show", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"map", "dump", "--x"}, "flag provided but not defined: -x"},
	} {
		r := bpfkit(t, tc.args...)
		if r.code == 0 {
			t.Errorf("bpfkit %v: exit 0, want an error", tc.args)
			continue
		}
		if !strings.HasPrefix(r.stderr, "Error: ") || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("bpfkit %v: stderr %q, want one line with %q", tc.args, r.stderr, tc.want)
		}
		if r.stdout != "" {
			t.Errorf("bpfkit %v: stdout %q on error", tc.args, r.stdout)
		}
		// With -j the error is a JSON object on stdout.
		j := bpfkit(t, append([]string{"-j"}, tc.args...)...)
		obj, ok := testutil.DecodeJSON[any](t, []byte(j.stdout)).(map[string]any)
		if j.code == 0 || !ok || !strings.Contains(obj["error"].(string), tc.want) {
			t.Errorf("bpfkit -j %v: exit %d, stdout %q", tc.args, j.code, j.stdout)
		}
	}
}

// TestUnprivileged runs bpfkit as nobody without capabilities: each
// command fails with one line that names the missing privilege. map
// create and asm demo once blamed RLIMIT_MEMLOCK (cilium/ebpf's guess for
// any EPERM; issue 17), and asm demo must print nothing on stdout before
// it fails.
func TestUnprivileged(t *testing.T) {
	testutil.RequirePrivileged(t) // to drop privileges, we need them
	setpriv := testutil.RequireTool(t, "setpriv")
	const needsRoot = "needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prog", "show"}, needsRoot}, {[]string{"map", "show"}, needsRoot}, {[]string{"link", "show"}, needsRoot},
		{[]string{"asm", "demo"}, "loading the demo needs CAP_BPF (or root), which this process lacks: operation not permitted"},
		{[]string{"btf", "show"}, needsRoot},
		{[]string{"map", "create", "/sys/fs/bpf/i17b_nobody", "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "i17b_nobody"},
			"map create failed: creating a map needs CAP_BPF (or root), which this process lacks: operation not permitted"},
		{[]string{"run", testutil.Object(t, "tracepoint")}, "run: loading an object needs CAP_BPF (or root), which this process lacks"},
		{[]string{"prog", "load", testutil.Object(t, "tracepoint"), "/sys/fs/bpf/i17b_nobody"}, "loading an object needs CAP_BPF (or root), which this process lacks"},
		{[]string{"prog", "tracelog"}, needsRoot},
	} {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps=-all", "--bounding-set=-all", binPath}, tc.args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		out := stderr.String()
		if err == nil {
			t.Errorf("%v as nobody succeeded:\n%s", tc.args, out)
			continue
		}
		if !strings.HasPrefix(out, "Error: ") || strings.Count(out, "\n") != 1 || !strings.Contains(out, tc.want) ||
			strings.Contains(out, "MEMLOCK") {
			t.Errorf("%v as nobody: want the one-line permission error with %q, got:\n%s", tc.args, tc.want, out)
		}
		if len(stdout) > 0 {
			t.Errorf("%v as nobody printed before failing:\n%s", tc.args, stdout)
		}
	}
	if exists("/sys/fs/bpf/i17b_nobody") {
		os.Remove("/sys/fs/bpf/i17b_nobody")
		t.Errorf("map create as nobody left its pin")
	}
}

// runDemo runs the demo binary with args while opening files, so that it
// sees openat calls, and returns its output and the ids it reported.
// onLoaded runs while the demo is loaded.
func runDemo(t *testing.T, onLoaded func(progID string), args ...string) (text, progID, mapID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, append([]string{"asm", "demo"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				if f, err := os.Open("/etc/hostname"); err == nil {
					f.Close()
				}
			}
		}
	}()
	var lines []string
	sc := bufio.NewScanner(stdout)
	loaded := regexp.MustCompile(`^Loaded program bpfkit_demo as id (\d+) with map bpfkit_events id (\d+)`)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := loaded.FindStringSubmatch(sc.Text()); m != nil {
			progID, mapID = m[1], m[2]
			if onLoaded != nil {
				onLoaded(progID)
			}
		}
	}
	text = strings.Join(lines, "\n")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo: %v\n%s", err, text)
	}
	if progID == "" {
		t.Fatalf("demo did not say which program it loaded:\n%s", text)
	}
	return text, progID, mapID
}

// checkDemoGone checks that nothing of the demo is left: its program and
// map ids are gone. The kernel frees a program's maps after an RCU grace
// period, so it waits a little. It looks at ids without opening the
// objects, which would hold them.
func checkDemoGone(t *testing.T, progID, mapID string) {
	t.Helper()
	for kind, id := range map[string]string{"prog": progID, "map": mapID} {
		n, _ := strconv.ParseUint(id, 10, 32)
		if !testutil.IDGone(kind, uint32(n), 10*time.Second) {
			t.Errorf("demo %s %s still exists", kind, id)
		}
	}
}

func TestDemo(t *testing.T) {
	testutil.RequirePrivileged(t)
	text, progID, mapID := runDemo(t, nil, "count", "3", "timeout", "50s")
	records := regexp.MustCompile(`(?m)^CPU \d+  raw 7b 00 00 00  value 123$`).FindAllString(text, -1)
	if len(records) != 3 {
		t.Errorf("want 3 records of 123, got %d:\n%s", len(records), text)
	}
	for _, want := range []string{
		"int bpfkit_demo(void * ctx):\n; r2 = 123: the value to send\n   0: (b7) r2 = 123\n",
		"   2: (18) r2 = map[bpfkit_events]\n",
		"   9: (85) call bpf_perf_event_output#25\n",
		"What the kernel made of it after verification",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	// A busy machine may overrun the ring: lost samples are reported, not
	// counted as records.
	if !regexp.MustCompile(`(?m)^3 records, \d+ lost samples\. Detached and unloaded bpfkit_demo\.$`).MatchString(text) {
		t.Errorf("demo did not end after 3 records:\n%s", text)
	}
	checkDemoGone(t, progID, mapID)
}

// TestDemoInspect looks at the demo from outside while it runs, as the
// demo invites the user to.
func TestDemoInspect(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	var inspected bool
	text, progID, mapID := runDemo(t, func(progID string) {
		inspected = true
		out := mustBpfkit(t, "-j", "prog", "show", "id", progID)
		if !strings.Contains(out, `"name":"bpfkit_demo"`) || !strings.Contains(out, `"type":"tracepoint"`) {
			t.Errorf("prog show id %s while the demo runs: %s", progID, out)
		}
		// bpfkit and bpftool see the same translated program.
		want, code := testutil.Bpftool(t, "prog", "dump", "xlated", "id", progID)
		if code != 0 {
			t.Errorf("bpftool prog dump xlated id %s: exit %d", progID, code)
		}
		if got := mustBpfkit(t, "prog", "dump", "xlated", "id", progID); got != string(want) {
			t.Errorf("demo xlated dump differs from bpftool's:\n--- bpftool\n%s--- bpfkit\n%s", want, got)
		}
	}, "count", "0", "timeout", "15s") // bpftool in a TCG guest takes seconds
	if !inspected {
		t.Fatal("never saw the demo loaded")
	}
	if !regexp.MustCompile(`(?m)^\d+ records, \d+ lost samples\. Detached and unloaded bpfkit_demo\.$`).MatchString(text) {
		t.Errorf("demo did not end on its timeout:\n%s", text)
	}
	checkDemoGone(t, progID, mapID)
}

func TestDemoDryRun(t *testing.T) {
	out := mustBpfkit(t, "asm", "demo", "dry-run")
	if !strings.Contains(out, "int bpfkit_demo(void * ctx):") || strings.Contains(out, "Loaded program") {
		t.Errorf("dry-run output:\n%s", out)
	}
	if r := bpfkit(t, "-j", "asm", "demo"); r.code == 0 || !strings.Contains(r.stdout, "has no JSON output") {
		t.Errorf("-j asm demo: %+v", r)
	}
	r := bpfkit(t, "asm", "demo", "count", "many")
	if r.code == 0 || !strings.Contains(r.stderr, "can't parse count many") {
		t.Errorf("bad count: %+v", r)
	}
}

// itoa is a kernel ID as a command-line word.
func itoa(id uint32) string { return strconv.FormatUint(uint64(id), 10) }

func TestCompletion(t *testing.T) {
	out, err := exec.Command(binPath, "prog", "--generate-bash-completion").Output()
	if words := strings.Fields(string(out)); err != nil || len(words) < 3 || strings.Join(words[:2], " ") != "show list" {
		t.Errorf("prog completions: %q %v", words, err)
	}
	// The bash script completes through the binary itself.
	script := mustBpfkit(t, "completion", "bash")
	cmd := exec.Command("bash", "-c", script+`
COMP_WORDS=(`+binPath+` ma); COMP_CWORD=1; _bpfkit; echo "${COMPREPLY[@]}"`)
	out, err = cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "map" {
		t.Errorf("bash completion of 'ma': %q %v", out, err)
	}
	if !strings.HasPrefix(mustBpfkit(t, "completion", "zsh"), "#compdef bpfkit") {
		t.Error("zsh script lacks #compdef")
	}
}

// TestDemoQuiet runs the demo with nobody helping: no opener of the test's
// own. On a quiet machine the demo's own trigger ("no openat for 1 s:
// bpfkit opens /etc/hostname to make one") makes the records; on a busy
// one other processes do; either way it ends with its three records.
func TestDemoQuiet(t *testing.T) {
	testutil.RequirePrivileged(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binPath, "asm", "demo", "count", "3").CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	text := string(out)
	if !regexp.MustCompile(`(?m)^3 records, \d+ lost samples\. Detached and unloaded bpfkit_demo\.$`).MatchString(text) {
		t.Errorf("demo did not end after 3 records:\n%s", text)
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "no openat") && l != "no openat for 1 s: bpfkit opens /etc/hostname to make one" {
			t.Errorf("trigger line %q", l)
		}
	}
	t.Logf("the demo opened a file itself %d times", strings.Count(text, "no openat for 1 s"))
}
