package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// goModule writes a Go module in dir that builds against the same
// cilium/ebpf as bpfkit, from the module cache (no network).
func goModule(t *testing.T, dir string) {
	t.Helper()
	root := testutil.RepoRoot(t)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod := "module i12gen\n\ngo 1.26.0\n\nrequire github.com/cilium/ebpf v0.22.0\n\nrequire golang.org/x/sys v0.49.0 // indirect\n"
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644)
	os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
}

// goCmd runs the go command in dir, offline.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// roundTrip is a program that uses the generated bindings: it creates
// the object's flows map from the embedded spec, stores a value made of
// the generated types, and pins the map for bpftool to read.
const roundTrip = `package main

import (
	"os"

	"github.com/cilium/ebpf"

	"i12gen/mapdata"
)

func main() {
	spec, err := mapdata.Spec()
	if err != nil {
		panic(err)
	}
	ms := spec.Maps[mapdata.FlowsName].Copy()
	ms.Name = "i12_gen_flows"
	m, err := ebpf.NewMap(ms)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	key := mapdata.Flow{Saddr: 0x0100007f, Port: 443, Proto: 17}
	val := mapdata.Stats{Packets: 7, Bytes: 1500, Mode: uint32(mapdata.ModeON), Seen: true}
	for i, c := range "i12" {
		val.Comm[i] = int8(c)
	}
	val.U.Word = 0xdeadbeef
	if err := m.Update(&key, &val, ebpf.UpdateNoExist); err != nil {
		panic(err)
	}
	if err := m.Pin(os.Args[1]); err != nil {
		panic(err)
	}
}
`

// exports makes the generated (unexported) names usable from the
// round-trip program.
const exports = `package mapdata

import "github.com/cilium/ebpf"

type (
	Flow  = mapdataFlow
	Stats = mapdataStats
)

const (
	FlowsName = mapdataMapFlows
	ModeON    = mapdataModeMODE_ON
)

func Spec() (*ebpf.CollectionSpec, error) { return loadMapdata() }
`

// TestGenGo writes the bindings of mapdata.bpf.o into a temporary module,
// checks that they build and are go vet clean, stores a map value through
// the generated types and reads it back with bpftool.
func TestGenGo(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	goModule(t, dir)
	pkg := filepath.Join(dir, "mapdata")
	os.MkdirAll(pkg, 0o755)
	obj := testutil.Object(t, "mapdata")
	src := mustBpfkit(t, "gen", "go", obj, "package", "mapdata", "type", "event")
	for _, want := range []string{"type mapdataFlow struct", "type mapdataStats struct", "type mapdataEvent struct", "//go:embed mapdata.bpf.o", "mapdataProgEmit       = \"emit\""} {
		if !strings.Contains(src, want) {
			t.Errorf("generated source lacks %q", want)
		}
	}
	os.WriteFile(filepath.Join(pkg, "mapdata_bpfel.go"), []byte(src), 0o644)
	os.WriteFile(filepath.Join(pkg, "exports.go"), []byte(exports), 0o644)
	data, err := os.ReadFile(obj)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(pkg, "mapdata.bpf.o"), data, 0o644)
	os.MkdirAll(filepath.Join(dir, "cmd"), 0o755)
	os.WriteFile(filepath.Join(dir, "cmd", "main.go"), []byte(roundTrip), 0o644)

	goCmd(t, dir, "vet", "./...")
	bin := filepath.Join(dir, "roundtrip")
	goCmd(t, dir, "build", "-o", bin, "./cmd")

	pin := filepath.Join(testutil.PinDir(t), "i12_gen_flows")
	if out, err := exec.Command(bin, pin).CombinedOutput(); err != nil {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
	defer os.Remove(pin)
	got := testutil.BpftoolJSON[[]map[string]any](t, "map", "dump", "pinned", pin)
	if len(got) != 1 {
		t.Fatalf("bpftool dumps %d entries: %v", len(got), got)
	}
	formatted := got[0]["formatted"].(map[string]any)
	key := fmt.Sprint(formatted["key"])
	value := fmt.Sprint(formatted["value"])
	for _, want := range []string{"saddr:16777343", "port:443", "proto:17"} {
		if !strings.Contains(key, want) {
			t.Errorf("bpftool reads key %s, want %s in it", key, want)
		}
	}
	for _, want := range []string{"packets:7", "bytes:1500", "comm:i12", "mode:MODE_ON", "word:3735928559", "seen:true", "small:0"} {
		if !strings.Contains(value, want) {
			t.Errorf("bpftool reads value %s, want %s in it", value, want)
		}
	}
}

func TestGenErrors(t *testing.T) {
	obj := testutil.Object(t, "mapdata")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gen", "go"}, "expected OBJ"},
		{[]string{"gen", "go", "/nonexistent/i12.o"}, "no such file"},
		{[]string{"gen", "go", obj, "type", "no_such_type"}, "type 'no_such_type': not in the object's BTF"},
		{[]string{"gen", "go", obj, "package", "1x"}, "not a Go identifier"},
		{[]string{"gen", "go", obj, "bogus", "x"}, "got: 'bogus'"},
		{[]string{"-j", "gen", "go", obj}, "no JSON form"},
		{[]string{"gen", "min_core_btf", "/sys/kernel/btf/vmlinux"}, "expected INPUT, OUTPUT"},
	} {
		r := bpfkit(t, tc.args...)
		out := r.stderr
		if strings.HasPrefix(tc.args[0], "-j") {
			out = r.stdout
		}
		if r.code == 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("bpfkit %s: exit %d, stdout %q, stderr %q; want one error line with %q",
				strings.Join(tc.args, " "), r.code, r.stdout, r.stderr, tc.want)
		}
	}
}
