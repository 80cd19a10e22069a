package loader

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

func TestOpenObjectOrder(t *testing.T) {
	obj := openObject(t, "kprobe")
	if want := []string{"kprobe_openat2", "kretprobe_openat2"}; !slices.Equal(obj.Programs, want) {
		t.Errorf("programs %v, want %v", obj.Programs, want)
	}
	if want := []string{"kp_events", ".rodata", ".bss"}; !slices.Equal(obj.Maps, want) {
		t.Errorf("maps %v, want %v", obj.Maps, want)
	}
	if obj.Name != "kprobe" {
		t.Errorf("object name %q", obj.Name)
	}
	obj = openObject(t, "tracepoint")
	// bpftool's pin names for data section maps carry the object prefix.
	if got := obj.MapPinName(".rodata"); got != "tracepoi_rodata" {
		t.Errorf("pin name of .rodata: %q", got)
	}
	if got := obj.MapPinName("openat_events"); got != "openat_events" {
		t.Errorf("pin name of events: %q", got)
	}
	if got := obj.MapPinName(".data.custom"); got != "_data_custom" {
		t.Errorf("pin name of .data.custom: %q", got)
	}
}

func TestOpenObjectErrors(t *testing.T) {
	data, err := os.ReadFile(testutil.Object(t, "loader/tracepoint"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"truncated", data[:len(data)/2], elfobj.ErrNotBPF},
		{"header only", data[:64], elfobj.ErrNotBPF},
		{"empty", nil, elfobj.ErrNotBPF},
		{"text", []byte("int main() { return 0; }\n"), elfobj.ErrNotBPF},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".o")
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	_, err = Open(testutil.Object(t, "loader/noprog"))
	if !errors.Is(err, ErrNoPrograms) {
		t.Errorf("noprog: got %v, want ErrNoPrograms", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.o")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// committedObjects lists every committed test object, the shared ones and
// the loader's, and why it may not load: "" when it must. (The malformed
// corpus is broken on purpose and is not listed.)
func committedObjects(t *testing.T) map[string]string {
	t.Helper()
	paths := append(testutil.Objects(t, "*"), testutil.Objects(t, "loader/*")...)
	kprobes, tramp := testutil.Has(t, "kprobes"), testutil.Has(t, "trampolines")
	out := map[string]string{}
	for _, p := range paths {
		base := filepath.Base(p)
		if base == "bad_verifier.bpf.o" || base == "core_fail.bpf.o" || base == "noprog.bpf.o" {
			out[p] = "fails on purpose"
			continue
		}
		if base == "missing_target.bpf.o" {
			out[p] = "names hooks that do not exist (TestMissingAttachTargets)"
			continue
		}
		if base == "unknown_section.bpf.o" {
			out[p] = "needs type TYPE (TestTypeOverride)"
			continue
		}
		out[p] = ""
		obj, err := Open(p)
		if err != nil {
			continue // the test reports it
		}
		for _, ps := range obj.Spec.Programs {
			kind, _, _ := strings.Cut(strings.TrimPrefix(ps.SectionName, "?"), "/")
			switch {
			case (kind == "kprobe" || kind == "kretprobe") && !kprobes:
				out[p] = "kernel has no kprobes"
			case (kind == "fentry" || kind == "fexit" || kind == "fmod_ret" || kind == "lsm") && !tramp:
				out[p] = "kernel refuses BPF trampolines"
			}
		}
	}
	return out
}

// TestMalformedObjects: objects broken on purpose never panic the loader;
// truncated, empty and non-BPF files are elfobj.ErrNotBPF. (Some defects
// matter only to a readelf-style reader and still load.)
func TestMalformedObjects(t *testing.T) {
	paths, _ := filepath.Glob(testutil.Testdata(t, "*/malformed/*.o"))
	more, _ := filepath.Glob(testutil.Testdata(t, "malformed/*.o"))
	for _, p := range append(paths, more...) {
		_, err := Open(p)
		base := filepath.Base(p)
		for _, bad := range []string{"truncated", "empty", "text", "x86_64", "elf32"} {
			if strings.Contains(base, bad) && !errors.Is(err, elfobj.ErrNotBPF) {
				t.Errorf("%s: got %v, want elfobj.ErrNotBPF", base, err)
			}
		}
	}
}

// TestLoadAllCommittedObjects is `prog loadall OBJ DIR pinmaps DIR
// autoattach` on every committed object: bpftool must see every pinned
// program, map and link, and removing the pins must unload them.
func TestLoadAllCommittedObjects(t *testing.T) {
	dir := testutil.PinDir(t)
	testutil.RequireTool(t, "bpftool")
	for path, why := range committedObjects(t) {
		t.Run(strings.TrimPrefix(path, "../../testdata/"), func(t *testing.T) {
			if why != "" {
				t.Skip(why)
			}
			obj, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			sub := filepath.Join(dir, strings.NewReplacer(".", "_", "/", "_").Replace(strings.TrimPrefix(path, "../../testdata/")))
			if err := os.Mkdir(sub, 0o700); err != nil {
				t.Fatal(err)
			}
			pins, err := LoadAndPin(obj, LoadOptions{PinRoot: sub}, PinRequest{
				Path: filepath.Join(sub, "progs"), All: true,
				PinMaps: filepath.Join(sub, "maps"), AutoAttach: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, p := range pins {
				kinds[p.Kind]++
				if got := testutil.BpftoolJSON[struct{ ID uint32 }](t, p.Kind, "show", "pinned", p.Path).ID; got != p.ID || p.ID == 0 {
					t.Errorf("%s %s at %s: bpftool sees ID %d, LoadAndPin said %d", p.Kind, p.Name, p.Path, got, p.ID)
				}
			}
			if kinds["prog"]+kinds["link"] != len(obj.Programs) || kinds["map"] != len(obj.Maps) {
				t.Errorf("pins %v for %d programs and %d maps", kinds, len(obj.Programs), len(obj.Maps))
			}
			// Removing the pins unloads everything (by-name pins live in sub).
			if err := os.RemoveAll(sub); err != nil {
				t.Fatal(err)
			}
			for _, p := range pins {
				if p.Kind == "map" && obj.Spec.Maps[p.Name].Type == ebpf.ProgramArray {
					// Not polled: on Linux 6.18, opening a program array
					// by ID while the kernel empties it after its last
					// user reference went was seen to leave it allocated
					// for good (the clearing work seems to take one
					// reference per release but run once).
					continue
				}
				if !testutil.IDGone(p.Kind, p.ID, 5*time.Second) {
					t.Errorf("%s %s (ID %d) still loaded after its pin was removed", p.Kind, p.Name, p.ID)
				}
			}
		})
	}
}

// TestProgLoadFirstOnly is `prog load OBJ PATH`: only the first program is
// pinned, and nothing else stays loaded.
func TestProgLoadFirstOnly(t *testing.T) {
	dir := testutil.PinDir(t)
	obj := openObject(t, "kprobe")
	path := filepath.Join(dir, "first")
	pins, err := LoadAndPin(obj, LoadOptions{}, PinRequest{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != 1 || pins[0].Name != "kprobe_openat2" || pins[0].Path != path || pins[0].Kind != "prog" {
		t.Fatalf("pins %+v", pins)
	}
	// kprobe_openat2 stays; kretprobe_openat2 is gone; the maps stay as the
	// pinned program uses them.
	testutil.WaitCountsAtMost(t, testutil.Counts{Progs: 1, Maps: 1}, "kprobe_openat2", "kretprobe_opena", "kp_events")
	os.Remove(path)
	testutil.WaitCountsAtMost(t, testutil.Counts{}, "kprobe_openat2", "kretprobe_opena", "kp_events")

	// With autoattach the first program's link is pinned at PATH.
	obj = openObject(t, "tracepoint")
	pins, err = LoadAndPin(obj, LoadOptions{}, PinRequest{Path: path, AutoAttach: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != 1 || pins[0].Kind != "link" || pins[0].Note != "tracepoint syscalls/sys_enter_openat" {
		t.Fatalf("pins %+v", pins)
	}
	l, err := link.NewFromID(link.ID(pins[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	info, err := l.Info()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	testutil.AssertGone(t, map[string][]uint32{"link": {pins[0].ID}, "prog": {uint32(info.Program)}})
}

// TestLoadFailuresLeaveNothing: a verifier rejection, a CO-RE failure, a
// pin collision and a pin path outside bpffs each give their documented
// error and leave nothing loaded or pinned.
func TestLoadFailuresLeaveNothing(t *testing.T) {
	dir := testutil.PinDir(t)

	t.Run("verifier", func(t *testing.T) {
		obj := openObject(t, "bad_verifier")
		_, err := LoadAndPin(obj, LoadOptions{}, PinRequest{Path: filepath.Join(dir, "bad"), All: true, PinMaps: filepath.Join(dir, "badmaps")})
		var pe *ProgramLoadError
		if !errors.As(err, &pe) {
			t.Fatalf("got %v, want a ProgramLoadError", err)
		}
		if pe.Program != "bad_no_null_check" || len(pe.Log) == 0 {
			t.Errorf("program %q, %d log lines", pe.Program, len(pe.Log))
		}
		if !strings.Contains(err.Error(), "program bad_no_null_check (section tracepoint/syscalls/sys_enter_openat) rejected by the verifier") ||
			!strings.Contains(err.Error(), "map_value_or_null") {
			t.Errorf("message: %v", err)
		}
		testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
		assertNoPath(t, filepath.Join(dir, "bad"), filepath.Join(dir, "badmaps"))
	})

	t.Run("core", func(t *testing.T) {
		obj := openObject(t, "core_fail")
		_, err := LoadAndPin(obj, LoadOptions{}, PinRequest{Path: filepath.Join(dir, "core")})
		var pe *ProgramLoadError
		if !errors.As(err, &pe) {
			t.Fatalf("got %v, want a ProgramLoadError", err)
		}
		want := "program core_missing_field (section tracepoint/syscalls/sys_enter_openat): CO-RE relocation not satisfied by the kernel's BTF: byte_off of struct task_struct.bpfkit_no_such_field"
		if err.Error() != want {
			t.Errorf("message:\n got %v\nwant %s", err, want)
		}
		testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
		assertNoPath(t, filepath.Join(dir, "core"))
	})

	t.Run("collision", func(t *testing.T) {
		obj := openObject(t, "tracepoint")
		taken := filepath.Join(dir, "taken")
		if err := os.MkdirAll(filepath.Join(taken, "trace_openat"), 0o700); err != nil {
			t.Fatal(err)
		}
		_, err := LoadAndPin(obj, LoadOptions{}, PinRequest{Path: taken, All: true})
		if !errors.Is(err, objects.ErrPinExists) {
			t.Fatalf("got %v, want objects.ErrPinExists", err)
		}
		if want := "pin path " + filepath.Join(taken, "trace_openat") + ": already exists (bpfkit never overwrites a pin)"; err.Error() != want {
			t.Errorf("message %q", err)
		}
		testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
		if _, err := os.Stat(filepath.Join(taken, "trace_openat")); err != nil {
			t.Errorf("existing pin touched: %v", err)
		}
		// A map pin collision is found before loading too.
		mapsDir := filepath.Join(dir, "takenmaps")
		os.MkdirAll(filepath.Join(mapsDir, "openat_events"), 0o700)
		_, err = LoadAndPin(obj, LoadOptions{}, PinRequest{Path: filepath.Join(dir, "fresh"), All: true, PinMaps: mapsDir})
		if !errors.Is(err, objects.ErrPinExists) {
			t.Fatalf("map collision: got %v", err)
		}
		assertNoPath(t, filepath.Join(dir, "fresh"))
		testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
	})

	t.Run("outside bpffs", func(t *testing.T) {
		obj := openObject(t, "tracepoint")
		_, err := LoadAndPin(obj, LoadOptions{}, PinRequest{Path: filepath.Join(t.TempDir(), "p")})
		if !errors.Is(err, objects.ErrNotBPFFS) {
			t.Fatalf("got %v, want objects.ErrNotBPFFS", err)
		}
		_, err = LoadAndPin(obj, LoadOptions{}, PinRequest{Path: filepath.Join(t.TempDir(), "d"), All: true})
		if !errors.Is(err, objects.ErrNotBPFFS) {
			t.Fatalf("loadall: got %v, want objects.ErrNotBPFFS", err)
		}
		testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
	})
}

func assertNoPath(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was left behind", p)
		}
	}
}

// TestMapReuse is `map name NAME MAP` and `map idx N MAP`: the loaded
// object uses the existing map.
func TestMapReuse(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := openObject(t, "tracepoint")
	m, err := ebpf.NewMap(obj.Spec.Maps["openat_calls"].Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := mapID(m)
	idx := slices.Index(obj.Maps, "openat_calls")
	for _, r := range []MapReuse{{Name: "openat_calls", Map: m}, {Index: idx, Map: m}} {
		l, err := Load(obj, LoadOptions{Reuse: []MapReuse{r}})
		if err != nil {
			t.Fatal(err)
		}
		if got := mapID(l.Collection.Maps["openat_calls"]); got != want {
			t.Errorf("%+v: calls has ID %d, want %d", r, got, want)
		}
		l.Unload()
	}
	if _, err := Load(obj, LoadOptions{Reuse: []MapReuse{{Name: "nope", Map: m}}}); err == nil ||
		!strings.Contains(err.Error(), "no such map") {
		t.Errorf("unknown map name: %v", err)
	}
	if _, err := Load(obj, LoadOptions{Reuse: []MapReuse{{Index: 99, Map: m}}}); err == nil {
		t.Error("idx 99 accepted")
	}
	// An incompatible map is refused.
	bad, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := Load(obj, LoadOptions{Reuse: []MapReuse{{Name: "openat_calls", Map: bad}}}); err == nil {
		t.Error("incompatible map accepted")
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{Maps: 1}, objectNames(obj)...)
}

// TestPinByName: a LIBBPF_PIN_BY_NAME map is pinned under the pin root and
// shared by a second load; a failed load removes only the pins it made.
func TestPinByName(t *testing.T) {
	dir := testutil.PinDir(t)
	obj := openObject(t, "pinned")
	a, err := Load(obj, LoadOptions{PinRoot: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Unload()
	pin := filepath.Join(dir, "bpfkit_shared")
	if !slices.Equal(a.ByNamePins, []string{pin}) {
		t.Errorf("by-name pins %v", a.ByNamePins)
	}
	b, err := Load(obj, LoadOptions{PinRoot: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.ByNamePins) != 0 {
		t.Errorf("second load claims pins %v", b.ByNamePins)
	}
	if x, y := mapID(a.Collection.Maps["bpfkit_shared"]), mapID(b.Collection.Maps["bpfkit_shared"]); x != y {
		t.Errorf("not shared: IDs %d and %d", x, y)
	}
	b.Unload()
	if _, err := os.Stat(pin); err != nil {
		t.Errorf("second load removed the first one's pin: %v", err)
	}
	// A pin root outside bpffs is refused.
	if _, err := Load(obj, LoadOptions{PinRoot: t.TempDir()}); !errors.Is(err, objects.ErrNotBPFFS) {
		t.Errorf("pin root outside bpffs: %v", err)
	}
}

// ciliumLoadable are the cilium/ebpf test objects that load as they are
// (others need a test kernel module, constants set first, or are broken on
// purpose).
// (fentry_fexit is not among them: its fentry/target attaches to a
// program of the same object, which cilium/ebpf sets as AttachTarget by
// hand; no kernel has a function named target.)
var ciliumLoadable = []string{
	"btf_map_init", "kconfig", "ksym", "linked", "loader-clang-14", "loader-clang-17",
	"loader-clang-22", "loader_nobtf", "manyprogs", "raw_tracepoint", "strings",
	"subprog_reloc", "variables",
}

// TestCiliumTestdata loads the cilium/ebpf module's test objects that are
// meant to load on a stock kernel.
func TestCiliumTestdata(t *testing.T) {
	testutil.RequirePrivileged(t)
	td := filepath.Join(testutil.CiliumModuleDir(t), "testdata")
	for _, name := range ciliumLoadable {
		t.Run(name, func(t *testing.T) {
			obj, err := Open(filepath.Join(td, name+"-el.elf"))
			if err != nil {
				t.Fatal(err)
			}
			l, err := Load(obj, LoadOptions{PinRoot: testutil.PinDir(t)})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Collection.Programs) != len(obj.Programs) {
				t.Errorf("%d of %d programs loaded", len(l.Collection.Programs), len(obj.Programs))
			}
			l.Unload()
		})
	}
}

// TestCiliumTestdataErrors: cilium/ebpf's broken-on-purpose objects give
// clear errors.
func TestCiliumTestdataErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	td := filepath.Join(testutil.CiliumModuleDir(t), "testdata")
	for name, want := range map[string]string{
		"errors":      "program poisoned_", // several programs fail; cilium/ebpf loads them in random order
		"fwd_decl":    `program call_fwd (section socket) rejected by the kernel: Call at insn 0: symbol "fwd": unsatisfied program reference`,
		"invalid_map": "contains no BPF program",
		// Kernels that lack the kfunc say "not supported"; 6.1 has one of
		// that name with other types: "function param mismatch".
		"invalid-kfunc":        `kfunc "bpf_kfunc_call_test_mem_len_pass1": `,
		"invalid_btf_map_init": "not a valid BPF object file",
	} {
		t.Run(name, func(t *testing.T) {
			obj, err := Open(filepath.Join(td, name+"-el.elf"))
			if err == nil {
				var l *Loaded
				l, err = Load(obj, LoadOptions{PinRoot: testutil.PinDir(t)})
				if err == nil {
					l.Unload()
					t.Fatal("loaded")
				}
			}
			if !strings.Contains(err.Error(), want) ||
				name == "invalid-kfunc" && !strings.HasSuffix(err.Error(), "not supported") && !strings.Contains(err.Error(), "function param mismatch") {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
}

// TestTypeOverride: a program in an unknown section loads only with `type`,
// which bpftool also accepts as a section name.
func TestTypeOverride(t *testing.T) {
	dir := testutil.PinDir(t)
	obj := openObject(t, "unknown_section")
	_, err := LoadAndPin(obj, LoadOptions{}, PinRequest{Path: filepath.Join(dir, "p")})
	if !errors.Is(err, ErrNoPrograms) || !strings.Contains(err.Error(), "in a section of known type (sections: bpfkit_custom/filter); give one with type TYPE") {
		t.Fatalf("without type: %v", err)
	}
	for _, typ := range []string{"socket", "xdp", "tracepoint/syscalls/sys_enter_openat"} {
		path := filepath.Join(dir, strings.NewReplacer("/", "_").Replace(typ))
		pins, err := LoadAndPin(obj, LoadOptions{Type: typ}, PinRequest{Path: path})
		if err != nil {
			t.Fatalf("type %s: %v", typ, err)
		}
		if len(pins) != 1 || pins[0].Name != "custom_filter" {
			t.Fatalf("type %s: pins %+v", typ, pins)
		}
		want, _, _ := elfobj.ProgramSection(typ)
		v := testutil.BpftoolJSON[struct{ Type string }](t, "prog", "show", "pinned", path)
		if v.Type != objects.ProgTypeName(want).String() {
			t.Errorf("type %s: bpftool says %s", typ, v.Type)
		}
		os.Remove(path)
	}
	if len(obj.Programs) != 0 {
		t.Errorf("the override leaked into the object: %v", obj.Programs)
	}
}

// TestKernelBTF: kernel_btf replaces the running kernel's BTF for CO-RE.
// core_fail.bpf.o's own BTF has the field the real kernel lacks, so with
// it as kernel BTF the relocation succeeds.
func TestKernelBTF(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := openObject(t, "core_fail")
	l, err := Load(obj, LoadOptions{KernelBTF: testutil.Object(t, "loader/core_fail")})
	if err != nil {
		t.Fatalf("with the object's own BTF as kernel BTF: %v", err)
	}
	l.Unload()
	if _, err := Load(obj, LoadOptions{KernelBTF: "/sys/kernel/btf/vmlinux"}); err == nil ||
		!strings.Contains(err.Error(), "byte_off of struct task_struct.bpfkit_no_such_field") {
		t.Errorf("with vmlinux: %v", err)
	}
	if _, err := Load(obj, LoadOptions{KernelBTF: "/nonexistent"}); err == nil ||
		!strings.HasPrefix(err.Error(), "kernel_btf /nonexistent: ") {
		t.Errorf("missing file: %v", err)
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{}, objectNames(obj)...)
}

// TestFirstProgramMatchesBpftool: `prog load` pins the same first program
// bpftool pins, for every committed object bpftool v7.1 can load.
func TestFirstProgramMatchesBpftool(t *testing.T) {
	dir := testutil.PinDir(t)
	testutil.RequireTool(t, "bpftool")
	for path, why := range committedObjects(t) {
		if why != "" {
			continue
		}
		obj, err := Open(path)
		if err != nil || len(obj.Programs) < 2 || hasPinByName(obj) {
			continue // bpftool would pin by-name maps under /sys/fs/bpf
		}
		theirs := filepath.Join(dir, "bpftool")
		if _, code := testutil.Bpftool(t, "prog", "load", path, theirs); code != 0 {
			continue // bpftool v7.1's libbpf does not know every section
		}
		v := testutil.BpftoolJSON[struct{ Name string }](t, "prog", "show", "pinned", theirs)
		os.Remove(theirs)
		if v.Name != obj.Programs[0] {
			t.Errorf("%s: bpftool pins %s first, bpfkit %s", path, v.Name, obj.Programs[0])
		}
	}
}

func hasPinByName(obj *Object) bool {
	for _, m := range obj.Spec.Maps {
		if m.Pinning == ebpf.PinByName {
			return true
		}
	}
	return false
}

// TestLoadAllPinNamesMatchBpftool: `prog loadall OBJ DIR pinmaps MDIR`
// pins programs and maps under the same file names as bpftool.
func TestLoadAllPinNamesMatchBpftool(t *testing.T) {
	dir := testutil.PinDir(t)
	testutil.RequireTool(t, "bpftool")
	list := func(d string) string {
		ents, _ := os.ReadDir(d)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return strings.Join(names, " ")
	}
	compared := 0
	for path, why := range committedObjects(t) {
		obj, err := Open(path)
		if why != "" || err != nil || hasPinByName(obj) {
			continue
		}
		tp, tm := filepath.Join(dir, "tp"), filepath.Join(dir, "tm")
		if _, code := testutil.Bpftool(t, "prog", "loadall", path, tp, "pinmaps", tm); code != 0 {
			os.RemoveAll(tp)
			os.RemoveAll(tm)
			continue // bpftool v7.1's libbpf does not know every section
		}
		// libbpf keeps __kconfig externs in a .kconfig map it pins too;
		// cilium/ebpf gives each program a private .kconfig map that is
		// not part of the collection.
		var kept []string
		for _, n := range strings.Fields(list(tm)) {
			if !strings.HasSuffix(n, "_kconfig") {
				kept = append(kept, n)
			}
		}
		theirs := list(tp) + " | " + strings.Join(kept, " ")
		os.RemoveAll(tp)
		os.RemoveAll(tm)
		op, om := filepath.Join(dir, "op"), filepath.Join(dir, "om")
		if _, err := LoadAndPin(obj, LoadOptions{}, PinRequest{Path: op, All: true, PinMaps: om}); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ours := list(op) + " | " + list(om)
		os.RemoveAll(op)
		os.RemoveAll(om)
		if ours != theirs {
			t.Errorf("%s:\n bpftool %s\n bpfkit  %s", path, theirs, ours)
		}
		compared++
	}
	if compared < 5 {
		t.Errorf("compared only %d objects", compared)
	}
}

// TestDemoTrigger: the demo's own openat makes a record.
func TestDemoTrigger(t *testing.T) {
	testutil.RequirePrivileged(t)
	d, err := StartDemo()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 100 {
		if err := d.Trigger(); err != nil {
			t.Fatal(err)
		}
		rec, err := d.Read(time.Now().Add(100 * time.Millisecond))
		if err == nil && rec.Lost == 0 && rec.Value == 123 {
			return
		}
	}
	t.Fatal("no demo record after 100 openats of the demo's own")
}
