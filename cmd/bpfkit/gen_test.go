package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

var mapIDRE = regexp.MustCompile(`map\[id:\d+\]`)

// TestGenMinCoreBTF generates the minimal BTF for core.bpf.o (a relocation
// of each kind) and for kprobe.bpf.o: the same types, members and strings
// as bpftool v7.8.0's, far smaller than vmlinux's BTF, and the object
// loads with it as its kernel BTF into the same instructions as with the
// kernel's own BTF.
func TestGenMinCoreBTF(t *testing.T) {
	testutil.RequirePrivileged(t)
	const vmlinux = "/sys/kernel/btf/vmlinux"
	dir := t.TempDir()
	core, kprobe := testutil.Object(t, "core"), testutil.Object(t, "kprobe")
	ours, theirs := filepath.Join(dir, "ours.btf"), filepath.Join(dir, "theirs.btf")
	if out := mustBpfkit(t, "gen", "min_core_btf", vmlinux, ours, core, kprobe); out != "" {
		t.Errorf("gen min_core_btf printed %q", out)
	}
	testutil.Bpftool78Output(t, "gen", "min_core_btf", vmlinux, theirs, core, kprobe)
	a, b := must(os.ReadFile(ours)), must(os.ReadFile(theirs))
	// bpftool v7.8.0's libbpf writes a 32-byte header (two more fields,
	// zero); bpfkit the 24-byte header every BTF reader knows. The type
	// and string sections are the same bytes.
	hdrA, hdrB := binary.LittleEndian.Uint32(a[4:]), binary.LittleEndian.Uint32(b[4:])
	if !bytes.Equal(a[hdrA:], b[hdrB:]) {
		t.Errorf("types and strings differ from bpftool's: %s", testutil.FirstDiff(b[hdrB:], a[hdrA:]))
	}
	dumpOurs := testutil.BpftoolOutput(t, "btf", "dump", "file", ours)
	if dumpTheirs := testutil.BpftoolOutput(t, "btf", "dump", "file", theirs); !bytes.Equal(dumpOurs, dumpTheirs) {
		t.Errorf("bpftool dumps them differently: %s", testutil.FirstDiff(dumpTheirs, dumpOurs))
	}
	for _, want := range []string{"STRUCT 'task_struct'", "'real_parent'", "'comm'", "STRUCT 'sk_buff'", "'dev' type_id", "'cloned'", "ENUM 'bpf_map_type'", "STRUCT 'net_device'"} {
		if !bytes.Contains(dumpOurs, []byte(want)) {
			t.Errorf("minimal BTF lacks %s:\n%s", want, dumpOurs)
		}
	}
	full, err := os.Stat(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) == 0 || int64(len(a))*100 > full.Size() {
		t.Errorf("minimal BTF is %d bytes, vmlinux's %d: want under 1%%", len(a), full.Size())
	}

	// Load core.bpf.o against the minimal BTF and against the kernel's:
	// the same relocated instructions.
	pins := testutil.PinDir(t)
	withMin, withFull := filepath.Join(pins, "i12_core_min"), filepath.Join(pins, "i12_core_full")
	mustBpfkit(t, "prog", "load", core, withMin, "kernel_btf", ours)
	mustBpfkit(t, "prog", "load", core, withFull)
	xMin := mapIDRE.ReplaceAllString(mustBpfkit(t, "prog", "dump", "xlated", "pinned", withMin), "map")
	xFull := mapIDRE.ReplaceAllString(mustBpfkit(t, "prog", "dump", "xlated", "pinned", withFull), "map")
	if xMin != xFull {
		t.Errorf("relocated against the minimal BTF, the program differs: %s", testutil.FirstDiff([]byte(xFull), []byte(xMin)))
	}
	// Without the relocations' types, the load fails: the check can fail.
	empty := filepath.Join(dir, "other.btf")
	mustBpfkit(t, "gen", "min_core_btf", vmlinux, empty, testutil.Object(t, "xdp"))
	if r := bpfkit(t, "prog", "load", core, filepath.Join(pins, "i12_core_none"), "kernel_btf", empty); r.code == 0 {
		t.Error("core.bpf.o loaded against BTF without its types")
	}
}

func TestGenMinCoreBTFErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.btf")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gen", "min_core_btf", "/nonexistent/vmlinux", out, testutil.Object(t, "core")}, "no such file"},
		{[]string{"gen", "min_core_btf", testutil.Object(t, "core"), out, testutil.Object(t, "core")}, "parse BTF"},
		{[]string{"gen", "min_core_btf", "/sys/kernel/btf/vmlinux", out, "/nonexistent/x.o"}, "no such file"},
	} {
		r := bpfkit(t, tc.args...)
		if r.code == 0 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("bpfkit %s: exit %d, stderr %q; want one error line with %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("bpfkit %s left %s behind", strings.Join(tc.args, " "), out)
		}
	}
}
