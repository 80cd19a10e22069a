package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modulePath is the module the tests belong to: its go.mod marks the
// repository root.
const modulePath = "github.com/bpfkit/bpfkit"

// RepoRoot returns the absolute path of the repository root: the closest
// directory at or above the test's working directory whose go.mod declares
// github.com/bpfkit/bpfkit.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(mod), "module "+modulePath+"\n") {
			return dir
		}
		if dir == filepath.Dir(dir) {
			tb.Fatalf("no go.mod of %s at or above %s", modulePath, wd)
		}
	}
}
