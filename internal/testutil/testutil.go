// Package testutil holds helpers shared by bpfkit's tests.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// Strict reports whether BPFKIT_STRICT=1 turns skips into failures.
func Strict() bool { return os.Getenv("BPFKIT_STRICT") == "1" }

func skip(t testing.TB, msg string) {
	t.Helper()
	if Strict() {
		t.Fatalf("BPFKIT_STRICT=1: %s", msg)
	}
	t.Skip(msg)
}

// RequirePrivileged skips the test unless it runs as root.
func RequirePrivileged(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "needs root (CAP_BPF, CAP_SYS_ADMIN)")
	}
}

// RequireTool skips the test unless the named tool is in PATH.
func RequireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		skip(t, name+" not found in PATH")
	}
}
