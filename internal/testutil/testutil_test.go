package testutil_test

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

func TestRepoRoot(t *testing.T) {
	root := testutil.RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "internal", "testutil", "tools.go")); err != nil {
		t.Errorf("RepoRoot %s: %v", root, err)
	}
	t.Chdir(filepath.Join(root, "cmd", "bpfkit"))
	if got := testutil.RepoRoot(t); got != root {
		t.Errorf("from cmd/bpfkit: %s, want %s", got, root)
	}
}

// TestObject: object paths are relative to the working directory, as
// tests wrote them by hand, so that outputs naming them stay as they were.
func TestObject(t *testing.T) {
	t.Chdir(filepath.Join(testutil.RepoRoot(t), "cmd", "bpfkit"))
	if got, want := testutil.Object(t, "loader/kprobe"), "../../testdata/loader/kprobe.bpf.o"; got != want {
		t.Errorf("Object: %s, want %s", got, want)
	}
	objs := testutil.Objects(t, "*")
	if len(objs) < 5 || objs[0] != "../../testdata/btfkinds.bpf.o" {
		t.Errorf("Objects: %v", objs)
	}
}

// TestBpftool checks both bpftools the tests compare with: the exit code
// comes back, and each is the version it is said to be.
func TestBpftool(t *testing.T) {
	if out := testutil.BpftoolOutput(t, "version"); !bytes.Contains(out, []byte("bpftool v7.1.")) {
		t.Errorf("bpftool on PATH: %q", out)
	}
	if _, code := testutil.Bpftool(t, "nosuchobject"); code == 0 {
		t.Error("bpftool nosuchobject: exit 0")
	}
	if out := testutil.Bpftool78Output(t, "version"); !bytes.HasPrefix(out, []byte("bpftool v7.8.0\n")) {
		t.Errorf("%s: %q", testutil.Bpftool78Path(t), out)
	}
	if _, code := testutil.Bpftool78(t, "nosuchobject"); code == 0 {
		t.Error("bpftool v7.8.0 nosuchobject: exit 0")
	}
}

// TestImportsNoBpfkitPackage: testutil may import no bpfkit package (see
// the package doc), so that any package's own tests can use it.
func TestImportsNoBpfkitPackage(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "internal", "testutil")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/bpfkit/bpfkit/") {
				t.Errorf("%s imports %s", filepath.Base(path), p)
			}
		}
	}
}

func TestFirstDiff(t *testing.T) {
	if d := testutil.FirstDiff([]byte("a\nb\n"), []byte("a\nb\n")); d != "" {
		t.Errorf("equal: %q", d)
	}
	want := "line 2, byte 1 (3 lines, want 3):\n got:  \"bx\"\n want: \"by\""
	if d := testutil.FirstDiff([]byte("a\nbx\n"), []byte("a\nby\n")); d != want {
		t.Errorf("got %q, want %q", d, want)
	}
	want = "line 3, byte 0 (3 lines, want 4):\n got:  \"\"\n want: \"c\""
	if d := testutil.FirstDiff([]byte("a\nb\n"), []byte("a\nb\nc\n")); d != want {
		t.Errorf("got %q, want %q", d, want)
	}
}
