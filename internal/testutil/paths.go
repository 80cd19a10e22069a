package testutil

import (
	"os"
	"os/exec"
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

// Testdata returns the path of testdata/<rel> (rel uses slashes and may be
// a glob pattern) relative to the test's working directory, as a test
// would write it by hand: "../../testdata/xdp.bpf.o" from cmd/bpfkit. A
// relative path keeps file names in outputs and golden files as they were.
func Testdata(tb testing.TB, rel string) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	path, err := filepath.Rel(wd, filepath.Join(RepoRoot(tb), "testdata", filepath.FromSlash(rel)))
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// Object returns the path (see Testdata) of the committed test object
// testdata/<name>.bpf.o: Object(t, "xdp"), Object(t, "loader/kprobe"). The
// test fails when it is missing (make testdata builds it).
func Object(tb testing.TB, name string) string {
	tb.Helper()
	path := Testdata(tb, name+".bpf.o")
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("committed test object %s: %v (make testdata builds it)", name, err)
	}
	return path
}

// Objects returns the paths (see Testdata) of the committed test objects
// testdata/<pattern>.bpf.o, sorted: Objects(t, "*") are the shared ones,
// Objects(t, "loader/*") the loader's. The test fails when none match.
func Objects(tb testing.TB, pattern string) []string {
	tb.Helper()
	paths, err := filepath.Glob(Testdata(tb, pattern+".bpf.o"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no committed test objects testdata/%s.bpf.o: %v", pattern, err)
	}
	return paths
}

// CiliumModuleDir returns the directory of the cilium/ebpf module this
// module builds with: its testdata holds objects written by others, in
// both byte orders. The test skips (fails in strict mode) when the go
// command cannot say where it is.
func CiliumModuleDir(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cilium/ebpf").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		skip(tb, "cannot find the cilium/ebpf module: %v", err)
	}
	return dir
}
