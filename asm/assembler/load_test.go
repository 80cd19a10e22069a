package assembler

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// mapIDs hides what differs between two loads of one object.
var mapIDs = regexp.MustCompile(`map\[id:\d+\]`)

// xlatedOf loads obj with bpftool prog loadall and returns each
// program's "prog dump xlated linum" text by pin name, map ids hidden;
// ok is false when bpftool cannot load the object.
func xlatedOf(t *testing.T, obj string) (map[string]string, bool) {
	dir := filepath.Join(testutil.PinDir(t), "p")
	if _, code := testutil.Bpftool(t, "prog", "loadall", obj, dir); code != 0 {
		return nil, false
	}
	defer os.RemoveAll(dir)
	pins, _ := filepath.Glob(filepath.Join(dir, "*"))
	out := map[string]string{}
	for _, pin := range pins {
		text := testutil.BpftoolOutput(t, "prog", "dump", "xlated", "pinned", pin, "linum")
		out[filepath.Base(pin)] = mapIDs.ReplaceAllString(string(text), "map[id:N]")
	}
	return out, true
}

// TestRebuiltObjectsLoad builds objects back from their dumps and loads
// both with bpftool: every program of the rebuilt object has the same
// translated code and source lines as the original's, and readelf and
// llvm-objdump read the rebuilt object without a warning.
func TestRebuiltObjectsLoad(t *testing.T) {
	testutil.RequirePrivileged(t)
	readelf := testutil.RequireTool(t, "readelf")
	objdump := testutil.RequireTool(t, "llvm-objdump")
	objs := testutil.Objects(t, "*")
	objs = append(objs, testutil.Objects(t, "learner/*")...)
	objs = append(objs, filepath.Join(testutil.RepoRoot(t), "asm", "testdata", "lines.bpf.o"), filepath.Join(testutil.RepoRoot(t), "asm", "testdata", "mapinmap.bpf.o"))
	compared, programs := 0, 0
	for _, path := range objs {
		name := filepath.Base(path)
		f, err := elfobj.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		text, _, err := Dump(f, DumpOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		obj, err := Assemble(name+".s", text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		built := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(built, obj, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tool := range [][]string{{readelf, "-S", "-r", "-W", built}, {objdump, "-d", built}} {
			out, err := exec.Command(tool[0], tool[1:]...).CombinedOutput()
			if err != nil || strings.Contains(strings.ToLower(string(out)), "warning") {
				t.Errorf("%s: %s on the rebuilt object: %v\n%s", name, filepath.Base(tool[0]), err, out)
			}
		}
		want, ok := xlatedOf(t, path)
		if !ok {
			t.Logf("%s: bpftool does not load the original here; left out", name)
			continue
		}
		got, ok := xlatedOf(t, built)
		if !ok {
			t.Errorf("%s: bpftool loads the original but not the rebuilt object", name)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d programs loaded, the original has %d", name, len(got), len(want))
		}
		for prog, w := range want {
			if got[prog] != w {
				t.Errorf("%s: program %s: xlated differs:\n%s", name, prog, testutil.FirstDiff([]byte(got[prog]), []byte(w)))
			}
			if !strings.Contains(w, "line_num:") {
				t.Errorf("%s: program %s: no source lines to compare", name, prog)
			}
			programs++
		}
		compared++
	}
	t.Logf("%d objects, %d programs: the same xlated code and source lines", compared, programs)
	if compared < 8 {
		t.Fatalf("only %d objects compared", compared)
	}
}
