// What the command's tests share: the binary, built once, and running a
// command line in-process. What every package's tests share (bpftool,
// pins, test objects, kernel object counts) is in internal/testutil.

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/objects/features"
)

// binPath is the bpfkit binary built once for the tests that run it as a
// separate process.
var binPath string

func TestMain(m *testing.M) {
	// `feature probe unprivileged` runs this executable as its child.
	if os.Getenv(features.ChildEnv) != "" {
		os.Exit(run(append([]string{"bpfkit"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	dir, err := os.MkdirTemp("", "bpfkit-test-")
	if err != nil {
		panic(err)
	}
	// Readable by all: one test runs the binary as nobody.
	if err := os.Chmod(dir, 0o755); err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "bpfkit")
	if prebuilt := os.Getenv("BPFKIT_BIN"); prebuilt != "" {
		// A guest without a Go toolchain (make vmtest) passes the static
		// binary it built; it is copied so that nobody can run it too.
		data, err := os.ReadFile(prebuilt)
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(binPath, data, 0o755); err != nil {
			panic(err)
		}
	} else {
		build := exec.Command("go", "build", "-o", binPath, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			os.Stderr.Write(out)
			panic(err)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one bpfkit run printed.
type result struct {
	stdout, stderr string
	code           int
}

// bpfkit runs the command line in-process.
func bpfkit(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"bpfkit"}, args...), &stdout, &stderr)
	return result{stdout.String(), stderr.String(), code}
}

// mustBpfkit runs the command line in-process and fails on a non-zero exit.
func mustBpfkit(t *testing.T, args ...string) string {
	t.Helper()
	r := bpfkit(t, args...)
	if r.code != 0 {
		t.Fatalf("bpfkit %s: exit %d: %s%s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
	}
	return r.stdout
}
