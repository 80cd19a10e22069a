package assembler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/bpfkit/bpfkit/objects/loader"
	"github.com/cilium/ebpf"
)

// mapInMapSource declares the maps of asm/testdata/mapinmap.bpf.c with the
// .map shorthand: no .btf block and no .ptr.
const mapInMapSource = `.license "GPL"
.map slot_a type=array key=u32 value=u64 max_entries=4
.map slot_b type=array key=u32 value=u64 max_entries=4
.map slots type=array_of_maps key=u32 max_entries=2 inner=slot_a values=slot_a,slot_b
.map conn template type=hash flags=1 max_entries=128 key=u64 value=u32
.map by_ifindex type=hash_of_maps key=u32 max_entries=64 inner=conn

.section socket
.func count_len global
	r6 = r1
	*(u32 *)(r10 -4) = 0
	r2 = r10
	r2 += -4
	r1 = map[slots]
	call bpf_map_lookup_elem
	if r0 == 0x0 goto out
	r1 = r0
	r2 = r10
	r2 += -4
	call bpf_map_lookup_elem
	if r0 == 0x0 goto out
	r1 = 1
	lock *(u64 *)(r0 +0) += r1
	r1 = *(u32 *)(r6 +40)
	*(u32 *)(r10 -8) = r1
	r2 = r10
	r2 += -8
	r1 = map[by_ifindex]
	call bpf_map_lookup_elem
out:
	r0 = 0
	exit
`

// mapShape is what a loader makes of a map definition, BTF type names
// aside.
func mapShape(m *ebpf.MapSpec) string {
	s := fmt.Sprintf("%s key %d value %d max_entries %d flags %#x pinning %d", m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags, m.Pinning)
	if m.InnerMap != nil {
		s += " inner {" + mapShape(m.InnerMap) + "}"
	}
	for _, kv := range m.Contents {
		s += fmt.Sprintf(" [%v]=%v", kv.Key, kv.Value)
	}
	return s
}

// objectOf reads an object as the loader does.
func objectOf(t *testing.T, name string, obj []byte) *loader.Object {
	f, err := elfobj.Read(obj)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	o, err := loader.FromELF(name, f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return o
}

func specShapes(t *testing.T, name string, obj []byte) map[string]string {
	o := objectOf(t, name, obj)
	out := map[string]string{}
	for n, m := range o.Spec.Maps {
		if !strings.HasPrefix(n, ".") {
			out[n] = mapShape(m)
		}
	}
	return out
}

// TestMapOfMapsShorthand: .map inner= and values= declare maps of maps
// that cilium/ebpf reads exactly as it reads clang's object from C
// (asm/testdata/mapinmap.bpf.c): the same outer maps, inner map
// definitions and initial slots, in either byte order.
func TestMapOfMapsShorthand(t *testing.T) {
	for _, c := range []struct{ prefix, ref string }{
		{"", "mapinmap.bpf.o"},
		{".endian big\n", "mapinmap.bpfeb.o"},
	} {
		obj, err := Assemble("mapinmap.s", []byte(c.prefix+mapInMapSource))
		if err != nil {
			t.Fatal(err)
		}
		clang, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "asm", "testdata", c.ref))
		if err != nil {
			t.Fatal(err)
		}
		want := specShapes(t, c.ref, clang)
		got := specShapes(t, "mapinmap.s", obj)
		if len(want) != 4 {
			t.Fatalf("%s has maps %v, want 4", c.ref, want)
		}
		for n, w := range want {
			if got[n] != w {
				t.Errorf("%s: map %s:\n got  %s\n want %s", c.ref, n, got[n], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: maps %v, want %v", c.ref, got, want)
		}
		if !strings.Contains(want["by_ifindex"], "inner {Hash key 8 value 4 max_entries 128 flags 0x1") ||
			!strings.Contains(want["slots"], "[0]=slot_a [1]=slot_b") {
			t.Errorf("%s: the maps are not what the test expects: %v", c.ref, want)
		}
	}
}

// TestMapOfMapsShorthandLoads loads the object built from the .map
// shorthand with the loader (cilium/ebpf): the array of maps holds the
// two inner arrays, bpftool shows the outer maps as the file declares
// them and their slots as inner map ids, and the kernel takes into the
// hash of maps only a map like its template.
func TestMapOfMapsShorthandLoads(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj, err := Assemble("mapinmap.s", []byte(mapInMapSource))
	if err != nil {
		t.Fatal(err)
	}
	l, err := loader.Load(objectOf(t, "mapinmap.s.o", obj), loader.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	maps := l.Collection.Maps
	id := func(name string) ebpf.MapID {
		m := maps[name]
		if m == nil {
			t.Fatalf("no map %s after loading", name)
		}
		info, err := m.Info()
		if err != nil {
			t.Fatal(err)
		}
		mid, _ := info.ID()
		return mid
	}
	slots, byIf := id("slots"), id("by_ifindex")
	for i, inner := range []string{"slot_a", "slot_b"} {
		var got ebpf.MapID
		if err := maps["slots"].Lookup(uint32(i), &got); err != nil {
			t.Fatalf("slots[%d]: %v", i, err)
		}
		if want := id(inner); got != want {
			t.Errorf("slots[%d] holds map id %d, want %s's %d", i, got, inner, want)
		}
	}
	for _, c := range []struct {
		id   ebpf.MapID
		want string
	}{
		{slots, `"type":"array_of_maps","name":"slots","flags":0,"bytes_key":4,"bytes_value":4,"max_entries":2`},
		{byIf, `"type":"hash_of_maps","name":"by_ifindex","flags":0,"bytes_key":4,"bytes_value":4,"max_entries":64`},
	} {
		out := testutil.BpftoolOutput(t, "-j", "map", "show", "id", fmt.Sprint(c.id))
		if !strings.Contains(string(out), c.want) {
			t.Errorf("bpftool map show id %d:\n%s\nwant %s", c.id, out, c.want)
		}
	}
	// Without BTF on the map, bpftool shows the inner map ids as value
	// bytes.
	dump := string(testutil.BpftoolOutput(t, "-j", "map", "dump", "id", fmt.Sprint(slots)))
	for i, inner := range []string{"slot_a", "slot_b"} {
		v := uint32(id(inner))
		want := fmt.Sprintf(`{"key":["0x%02x","0x00","0x00","0x00"],"value":["0x%02x","0x%02x","0x%02x","0x%02x"]}`, i, v&0xff, v>>8&0xff, v>>16&0xff, v>>24)
		if !strings.Contains(dump, want) {
			t.Errorf("bpftool map dump of slots: %s\nwant %s", dump, want)
		}
	}
	// The kernel compares a map put into a map of maps with the inner map
	// it was created with: the template's type, sizes and flags.
	for _, c := range []struct {
		spec ebpf.MapSpec
		ok   bool
	}{
		{ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 4, MaxEntries: 128, Flags: 1}, true},
		{ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 128, Flags: 1}, false},
		{ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 128, Flags: 1}, false},
		{ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 4, MaxEntries: 128}, false},
		{ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 128}, false},
	} {
		m, err := ebpf.NewMap(&c.spec)
		if err != nil {
			t.Fatal(err)
		}
		err = maps["by_ifindex"].Put(uint32(7), m)
		m.Close()
		if (err == nil) != c.ok {
			t.Errorf("putting a %s key %d value %d flags %d into by_ifindex: %v, want success %v", c.spec.Type, c.spec.KeySize, c.spec.ValueSize, c.spec.Flags, err, c.ok)
		}
	}
	var n int
	iter := maps["by_ifindex"].Iterate()
	var k uint32
	var v ebpf.MapID
	for iter.Next(&k, &v) {
		n++
	}
	if n != 1 {
		t.Errorf("by_ifindex holds %d maps, want the one like its template", n)
	}
}

// TestMapOfMapsErrors: mistakes in .map inner= and values=, each at its
// line and column.
func TestMapOfMapsErrors(t *testing.T) {
	checkErrors(t, mapInMapSource, []errorCase{
		{"no inner map", " inner=conn", "", 6, 22, "expected inner=MAP for a map of maps"},
		{"undefined inner map", "inner=conn", "inner=con", 6, 64, "undefined inner map con"},
		{"inner of a plain map", "max_entries=4\n.map slot_b", "max_entries=4 inner=slot_b\n.map slot_b", 2, 62, "inner= is for array_of_maps and hash_of_maps"},
		{"values without inner", "max_entries=4\n.map slot_b", "max_entries=4 values=slot_b\n.map slot_b", 2, 63, "values= needs inner="},
		{"template in a slot", "values=slot_a,slot_b", "values=slot_a,conn", 4, 80, "values: slot 1: conn is a template"},
		{"undefined map in a slot", "values=slot_a,slot_b", "values=slot_a,slot_c", 4, 80, "values: slot 1: undefined map slot_c"},
		{"map of maps in a slot", "values=slot_a,slot_b", "values=,by_ifindex", 4, 74, "values: slot 1: by_ifindex holds maps itself"},
		{"bad slot name", "values=slot_a,slot_b", "values=slot_a,9x", 4, 80, "expected values=MAP,MAP,..."},
		{"map of maps as inner map", "inner=conn", "inner=slots", 6, 64, "inner map slots holds maps itself"},
		{"template defined twice", ".map conn template", ".map slot_a template", 5, 6, "map slot_a is already defined (line 2)"},
	})
}
