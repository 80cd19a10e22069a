// Package testutil holds what bpfkit's tests share, so that each helper
// has one home:
//   - skips for a missing privilege or tool, which fail instead under
//     BPFKIT_STRICT=1 (as CI runs): RequirePrivileged, RequireTool;
//   - the repository's files: RepoRoot, Object, Objects, Testdata,
//     CiliumModuleDir, and golden files (Golden, -update);
//   - the reference tools: Bpftool, BpftoolOutput and BpftoolJSON for
//     Debian's bpftool v7.1.0 on PATH, Bpftool78 and Bpftool78Output for
//     upstream v7.8.0 in ../shared/tools, ToolOutput for the others, and
//     FirstDiff to say where an output parts from theirs;
//   - kernel objects: PinDir, LoadCollection, NewProgram, NewMap,
//     RunOnCPU, CountByName, WaitCountsAtMost, IDGone, AssertGone;
//   - BTF types that cover every kind the value formatter prints.
//
// Only tests import it. It imports no bpfkit package, so that the tests
// inside any package (objects included) can use it without an import
// cycle; above all it never imports cmd/ or internal/render.
package testutil

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/rlimit"
)

// Update rewrites golden files instead of comparing with them:
// go test ./... -args -update (or go test ./pkg -update).
var Update = flag.Bool("update", false, "rewrite golden files")

// Strict reports whether skips must fail (BPFKIT_STRICT=1).
func Strict() bool { return os.Getenv("BPFKIT_STRICT") == "1" }

// skip skips the test, or fails it in strict mode.
func skip(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if Strict() {
		tb.Fatalf("BPFKIT_STRICT=1: cannot skip: "+format, args...)
	}
	tb.Skipf(format, args...)
}

// RequirePrivileged skips (fails in strict mode) unless the test runs as
// root, and lifts the memlock limit for old kernels.
func RequirePrivileged(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		skip(tb, "needs root")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		tb.Fatalf("remove memlock limit: %v", err)
	}
}

// Golden compares got with the file testdata/<name>, or writes it with
// -update.
func Golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(want) != string(got) {
		tb.Errorf("%s differs from the output (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
