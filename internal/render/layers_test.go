package render

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// Only commands and this package print: a library package (anything but
// package main and internal/render) must not import the CLI or table
// libraries, nor write to standard output.
var forbiddenImports = []string{"github.com/urfave/cli", "github.com/olekukonko/tablewriter"}

type goPackage struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	Imports    []string
}

// TestLibrariesDoNotPrint lists every package of the module with go list
// and checks each library package's imports and non-test sources.
func TestLibrariesDoNotPrint(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = testutil.RepoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	libraries := 0
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Name == "main" || strings.HasSuffix(p.ImportPath, "/internal/render") {
			continue
		}
		libraries++
		for _, imp := range p.Imports {
			for _, bad := range forbiddenImports {
				if strings.HasPrefix(imp, bad) {
					t.Errorf("%s imports %s: only commands and internal/render may", p.ImportPath, imp)
				}
			}
		}
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, what := range stdoutWrites(f) {
				t.Errorf("%s: %s writes to standard output: only commands and internal/render may", path, what)
			}
		}
	}
	if libraries < 5 {
		t.Fatalf("go list found %d library packages: the check looked at the wrong tree", libraries)
	}
}

// stdoutWrites lists the uses of os.Stdout, fmt.Print* and the print
// builtins in f.
func stdoutWrites(f *ast.File) []string {
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok {
				switch {
				case x.Name == "os" && n.Sel.Name == "Stdout",
					x.Name == "fmt" && (n.Sel.Name == "Print" || n.Sel.Name == "Printf" || n.Sel.Name == "Println"):
					found = append(found, x.Name+"."+n.Sel.Name)
				}
			}
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "print" || id.Name == "println") && id.Obj == nil {
				found = append(found, id.Name)
			}
		}
		return true
	})
	return found
}

// TestStdoutWritesFound: the check sees each way of writing to stdout.
func TestStdoutWritesFound(t *testing.T) {
	src := `package x
import ("fmt"; "os")
func f() { fmt.Println("a"); fmt.Fprintln(os.Stdout, "b"); println("c"); fmt.Fprintln(os.Stderr, "d") }`
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(stdoutWrites(f), " ")
	if got != "fmt.Println os.Stdout println" {
		t.Errorf("found %q", got)
	}
}
