package testutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireTool skips (fails in strict mode) unless name is on PATH, and
// returns its path.
func RequireTool(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		skip(tb, "needs %s on PATH", name)
	}
	return path
}

// ToolOutput runs the tool name from PATH (see RequireTool) with args and
// returns its stdout. The test fails, with the tool's stderr, unless it
// exits 0.
func ToolOutput(tb testing.TB, name string, args ...string) []byte {
	tb.Helper()
	return output(tb, RequireTool(tb, name), name, args)
}

// Bpftool runs the bpftool on PATH (Debian's v7.1.0: what users of Debian
// have) with args and returns its stdout and exit code, -1 when a signal
// ended it. Its stderr goes to the test log when the exit code is not 0.
// The test skips (fails in strict mode) when bpftool is not installed.
func Bpftool(tb testing.TB, args ...string) (stdout []byte, code int) {
	tb.Helper()
	return run(tb, RequireTool(tb, "bpftool"), "bpftool", args)
}

// BpftoolOutput runs the bpftool on PATH with args and returns its stdout;
// the test fails, with bpftool's stderr, unless it exits 0.
func BpftoolOutput(tb testing.TB, args ...string) []byte {
	tb.Helper()
	return output(tb, RequireTool(tb, "bpftool"), "bpftool", args)
}

// BpftoolJSON runs `bpftool -j` with args (see BpftoolOutput) and decodes
// its output into a T (see DecodeJSON).
func BpftoolJSON[T any](tb testing.TB, args ...string) T {
	tb.Helper()
	return DecodeJSON[T](tb, BpftoolOutput(tb, append([]string{"-j"}, args...)...))
}

// Bpftool78Path returns the path of upstream bpftool v7.8.0, the reference
// for what bpftool prints today: ../shared/tools/bpftool-7.8/bpftool from
// the repository root. The test skips (fails in strict mode) when it is
// not there.
func Bpftool78Path(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(RepoRoot(tb), "..", "shared", "tools", "bpftool-7.8", "bpftool")
	if _, err := os.Stat(path); err != nil {
		skip(tb, "needs bpftool v7.8.0 at %s (../shared/tools/bpftool-7.8 from the repository root): %v", path, err)
	}
	return path
}

// Bpftool78 is Bpftool for bpftool v7.8.0 (see Bpftool78Path).
func Bpftool78(tb testing.TB, args ...string) (stdout []byte, code int) {
	tb.Helper()
	return run(tb, Bpftool78Path(tb), "bpftool v7.8.0", args)
}

// Bpftool78Output is BpftoolOutput for bpftool v7.8.0 (see Bpftool78Path).
func Bpftool78Output(tb testing.TB, args ...string) []byte {
	tb.Helper()
	return output(tb, Bpftool78Path(tb), "bpftool v7.8.0", args)
}

// DecodeJSON decodes the first JSON value in data into a T, keeping
// numbers as json.Number (exact, and printed as written). The test fails
// when data does not decode.
func DecodeJSON[T any](tb testing.TB, data []byte) T {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v T
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("decode JSON %q: %v", data, err)
	}
	return v
}

// run runs the program at path and returns its stdout and exit code,
// logging its stderr when the code is not 0. name is how messages call it.
func run(tb testing.TB, path, name string, args []string) ([]byte, int) {
	tb.Helper()
	stdout, stderr, code := execute(tb, path, name, args)
	if code != 0 {
		tb.Logf("%s %s: exit %d: %s", name, strings.Join(args, " "), code, stderr)
	}
	return stdout, code
}

// output runs the program at path and returns its stdout; the test fails,
// with the program's stderr, unless it exits 0.
func output(tb testing.TB, path, name string, args []string) []byte {
	tb.Helper()
	stdout, stderr, code := execute(tb, path, name, args)
	if code != 0 {
		tb.Fatalf("%s %s: exit %d: %s", name, strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// execute runs the program at path to its end; code is -1 when a signal
// ended it. The test fails when the program cannot start.
func execute(tb testing.TB, path, name string, args []string) (stdout, stderr []byte, code int) {
	tb.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	var exit *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &exit) {
		tb.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out.Bytes(), errb.Bytes(), cmd.ProcessState.ExitCode()
}
