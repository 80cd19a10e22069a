package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestAsmDumpBuild: asm dump writes a file asm build builds back into an
// object whose dump is the same, and bpftool loads the built object.
func TestAsmDumpBuild(t *testing.T) {
	obj := testutil.Object(t, "mapdata")
	text := mustBpfkit(t, "asm", "dump", obj)
	for _, want := range []string{".section tc\n.func emit global\n", "\tr1 = map[limit]\n", "\tcall bpf_ringbuf_output#130\n", "\tif r0 == 0x0 goto L40\n", "\n.btf\n[1] PTR"} {
		if !strings.Contains(text, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	dir := t.TempDir()
	src, built := filepath.Join(dir, "mapdata.s"), filepath.Join(dir, "mapdata.o")
	if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	mustBpfkit(t, "asm", "build", src, built)
	if again := mustBpfkit(t, "asm", "dump", built); again != text {
		t.Errorf("the built object dumps differently:\n%s", testutil.FirstDiff([]byte(again), []byte(text)))
	}
	if one := mustBpfkit(t, "asm", "dump", obj, "program", "emit"); !strings.Contains(one, ".func emit global") {
		t.Errorf("dump of one program:\n%s", one)
	}
	// A mistake names the file, line and column.
	bad := strings.Replace(text, "\tr1 = map[limit]\n", "\tr1 = map[limits]\n", 1)
	if err := os.WriteFile(src, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := bpfkit(t, "asm", "build", src, built)
	line := 1 + strings.Count(bad[:strings.Index(bad, "map[limits]")], "\n")
	want := "Error: " + src + ":" + itoa(uint32(line)) + ":11: undefined map, variable or section limits\n"
	if r.code == 0 || r.stderr != want {
		t.Errorf("build of a bad file: exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
}

// TestRunDemoSource: the demo as an assembly file, run with bpfkit run,
// sends the records asm demo shows: 7b 00 00 00, the value 123.
func TestRunDemoSource(t *testing.T) {
	testutil.RequirePrivileged(t)
	src := filepath.Join(t.TempDir(), "demo.s")
	if err := os.WriteFile(src, []byte(mustBpfkit(t, "asm", "demo", "source")), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "run", "--duration", "3s", "--event-type", "u32", src)
	startOpener(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run demo.s: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "bpfkit_demo  tracepoint syscalls/sys_enter_openat") {
		t.Errorf("run did not attach the demo:\n%s", text)
	}
	records := regexp.MustCompile(`(?m) bpfkit_events CPU \d+: 123$`).FindAllString(text, -1)
	if len(records) == 0 {
		t.Errorf("no records of 123:\n%s", text)
	}
	if other := regexp.MustCompile(`(?m) bpfkit_events CPU \d+: (\d+)$`).FindAllStringSubmatch(text, -1); len(other) != len(records) {
		t.Errorf("records other than 123:\n%s", text)
	}
}
