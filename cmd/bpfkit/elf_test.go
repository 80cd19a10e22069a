package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

var elfVerbs = []string{"sections", "programs", "maps", "symbols", "relocations", "globals"}

// elfGoldenObjects are the test objects written for the ELF listing;
// other objects in testdata belong to other tests and change with them
// (the oracle tests still cover every object).
var elfGoldenObjects = []string{"cgroup", "fentry", "kprobe", "raw_tp", "socket", "tc", "tracepoint", "uprobe", "xdp"}

// TestELFGolden pins the table output of every elf verb on the ELF test
// objects (go test ./cmd/bpfkit -run TestELFGolden -update).
func TestELFGolden(t *testing.T) {
	for _, obj := range elfGoldenObjects {
		path := testutil.Object(t, obj)
		for _, verb := range elfVerbs {
			out := mustBpfkit(t, "elf", verb, path)
			testutil.Golden(t, filepath.Join("elf", obj+"."+verb+".golden"), []byte(out))
		}
	}
}

// TestELFJSON checks that -j prints what the library read, for every verb.
func TestELFJSON(t *testing.T) {
	for _, path := range testutil.Objects(t, "*") {
		f, err := elfobj.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"sections": f.Sections, "programs": f.Programs, "maps": f.Maps,
			"symbols": f.Symbols, "relocations": f.Relocations, "globals": f.Globals,
		}
		for _, verb := range elfVerbs {
			got := mustBpfkit(t, "-j", "elf", verb, path)
			data, err := json.Marshal(want[verb])
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal([]byte(got), &a); err != nil {
				t.Fatalf("elf %s -j: %v", verb, err)
			}
			json.Unmarshal(data, &b)
			if ja, jb := mustJSON(a), mustJSON(b); ja != jb {
				t.Errorf("%s: elf %s -j differs from the library:\n got  %s\n want %s", path, verb, ja, jb)
			}
			if pretty := mustBpfkit(t, "-p", "elf", verb, path); !strings.Contains(pretty, "\n    ") && len(a.([]any)) > 0 {
				t.Errorf("elf %s -p is not indented", verb)
			}
		}
	}
}

// mustJSON is v as compact JSON, for comparing decoded documents.
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestELFPrefixesAndDefault: `elf FILE` lists sections, verbs take unique
// prefixes, and relocations filter by section.
func TestELFPrefixesAndDefault(t *testing.T) {
	path := testutil.Object(t, "xdp")
	sections := mustBpfkit(t, "elf", "sections", path)
	if got := mustBpfkit(t, "elf", path); got != sections {
		t.Errorf("bare elf FILE differs from elf sections")
	}
	if got := mustBpfkit(t, "e", "sec", path); got != sections {
		t.Errorf("e sec differs from elf sections")
	}
	if got := mustBpfkit(t, "elf", "sy", path); got != mustBpfkit(t, "elf", "symbols", path) {
		t.Errorf("elf sy differs from elf symbols")
	}
	rel := mustBpfkit(t, "elf", "relocations", path, "section", "xdp")
	if !strings.Contains(rel, "call is_blocked") || strings.Contains(rel, "DWARF") {
		t.Errorf("elf relocations section xdp:\n%s", rel)
	}
	if r := bpfkit(t, "elf", "relocations", path, "section", "nosuch"); r.code != exitFailure || !strings.Contains(r.stderr, "no relocations for section 'nosuch'") {
		t.Errorf("unknown section: exit %d, %q", r.code, r.stderr)
	}
	if r := bpfkit(t, "elf", "maps"); r.code != exitFailure || r.stderr != "Error: elf maps: expected FILE\n" {
		t.Errorf("missing FILE: exit %d, %q", r.code, r.stderr)
	}
}

// TestELFMalformedCLI runs the binary on every malformed file: one error
// line, exit 1, no panic; with -j the error is JSON on stdout.
func TestELFMalformedCLI(t *testing.T) {
	files, err := filepath.Glob(testutil.Testdata(t, "malformed/*.o"))
	if err != nil || len(files) < 10 {
		t.Fatalf("malformed corpus missing: %v", err)
	}
	files = append(files, testutil.Testdata(t, "malformed"), testutil.Testdata(t, "no-such-file.o"))
	for _, path := range files {
		if filepath.Base(path) == "corrupt-btf.o" {
			continue // only its BPF meaning suffers; see below
		}
		for _, verb := range append(elfVerbs, "dump") {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(binPath, "elf", verb, path)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if err == nil || code != exitFailure {
				t.Errorf("elf %s %s: exit %d, want %d", verb, path, code, exitFailure)
			}
			msg := stderr.String()
			if stdout.Len() != 0 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "Error: elf "+verb+": "+path+": ") ||
				strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine") {
				t.Errorf("elf %s %s: stdout %q stderr %q", verb, path, stdout.String(), msg)
			}
		}
		var stdout bytes.Buffer
		cmd := exec.Command(binPath, "-j", "elf", "sections", path)
		cmd.Stdout = &stdout
		cmd.Run()
		var v map[string]string
		if err := json.Unmarshal(stdout.Bytes(), &v); err != nil || !strings.Contains(v["error"], path) {
			t.Errorf("-j elf sections %s: %q", path, stdout.String())
		}
	}
	// Corrupt BTF: the listing works, the BPF meaning says what failed.
	out := mustBpfkit(t, "elf", "sections", testutil.Testdata(t, "malformed/corrupt-btf.o"))
	if !strings.Contains(out, "BTF: ") {
		t.Errorf("corrupt BTF not reported:\n%s", out)
	}
}

// TestELFReadmeExamples runs every `$ bpfkit ... elf ...` example of the
// ELF manual, docs/elf.md (in testdata/, as the page says), and compares
// the output, stderr first as a terminal shows it.
func TestELFReadmeExamples(t *testing.T) {
	page, err := os.ReadFile("../../docs/elf.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(page)
	type example struct{ cmd, want string }
	var examples []example
	inCode, cur := false, -1
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inCode, cur = !inCode, -1
		case !inCode:
		case strings.HasPrefix(line, "$ bpfkit "):
			examples = append(examples, example{cmd: strings.TrimPrefix(line, "$ bpfkit ")})
			cur = len(examples) - 1
		case cur >= 0 && line != "":
			examples[cur].want += line + "\n"
		}
	}
	if len(examples) < 10 {
		t.Fatalf("found %d examples", len(examples))
	}
	for _, ex := range examples {
		cmd, echoCode := strings.CutSuffix(ex.cmd, "; echo $?")
		args := strings.Fields(cmd)
		for i, a := range args {
			if strings.HasSuffix(a, ".o") && !strings.HasPrefix(a, "/") {
				args[i] = "../../testdata/" + a
			}
		}
		if strings.Contains(cmd, "/usr/sbin/") {
			testutil.RequireTool(t, filepath.Base(args[len(args)-1]))
		}
		r := bpfkit(t, args...)
		got := strings.ReplaceAll(r.stderr+r.stdout, "../../testdata/", "")
		if echoCode {
			got += fmt.Sprintf("%d\n", r.code)
		}
		if got != ex.want {
			t.Errorf("docs/elf.md example `bpfkit %s`:\n--- docs/elf.md\n%s--- now\n%s", ex.cmd, ex.want, got)
		}
	}
}
