package render

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/mapdata"
)

// newMap creates a map from spec, pins it under dir and closes it at
// cleanup.
func newMap(t *testing.T, dir string, spec *ebpf.MapSpec) (*ebpf.Map, string) {
	t.Helper()
	m := testutil.NewMap(t, spec)
	path := filepath.Join(dir, spec.Name)
	if err := m.Pin(path); err != nil {
		t.Fatal(err)
	}
	return m, path
}

// dumpString dumps m through mapdata.Dump and DumpPrinter.
func dumpString(t *testing.T, m *ebpf.Map, l mapdata.Layout, f DumpFormat, opts *mapdata.DumpOptions) string {
	t.Helper()
	var b bytes.Buffer
	p := NewDumpPrinter(&b, f)
	p.BeginMap(l)
	if err := mapdata.Dump(m, opts, p.Entry); err != nil {
		t.Fatalf("dump: %v", err)
	}
	p.EndMap()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// le32 is v in little-endian bytes.
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// seq is n bytes counting up from start.
func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// compareDump checks plain, -j and -p dumps of the pinned map against
// bpftool's, with and without batching.
func compareDump(t *testing.T, m *ebpf.Map, path string, kt, vt ebpfbtf.Type) {
	t.Helper()
	l, _, err := mapdata.LayoutOf(m)
	if err != nil {
		t.Fatal(err)
	}
	l.KeyType, l.ValueType = kt, vt
	for _, c := range []struct {
		name string
		args []string
		f    DumpFormat
	}{
		{"plain", nil, DumpFormat{}},
		{"json", []string{"-j"}, DumpFormat{JSON: true}},
		{"pretty", []string{"-p"}, DumpFormat{JSON: true, Pretty: true}},
	} {
		want := normalizeBpftool(string(testutil.BpftoolOutput(t, append(c.args, "map", "dump", "pinned", path)...)), l)
		for _, nobatch := range []bool{false, true} {
			got := dumpString(t, m, l, c.f, &mapdata.DumpOptions{NoBatch: nobatch, BatchSize: 2})
			if got != want {
				t.Errorf("%s %s (nobatch=%v):\n--- bpfkit\n%s\n--- bpftool\n%s", filepath.Base(path), c.name, nobatch, got, want)
			}
		}
	}
}

// normalizeBpftool adapts bpftool v7.1.0 output where it differs on
// purpose: v7.1.0 predates "inner_map_id" in JSON dumps (v7.3).
func normalizeBpftool(s string, l mapdata.Layout) string {
	if !mapdata.IsMapOfMaps(l.Type) || strings.Contains(s, "inner_map_id") {
		return s
	}
	id := func(hex []string) string {
		var b [4]byte
		for i, h := range hex {
			fmt.Sscanf(h, "%x", &b[i])
		}
		return fmt.Sprint(binary.LittleEndian.Uint32(b[:]))
	}
	plain := regexp.MustCompile(`(?m)value: ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2})$`)
	s = plain.ReplaceAllStringFunc(s, func(m string) string {
		g := plain.FindStringSubmatch(m)
		return "inner_map_id: " + id(g[1:5]) + " "
	})
	js := regexp.MustCompile(`("value": ?\["0x(..)","0x(..)","0x(..)","0x(..)"(\n *)?\])(\n *)?`)
	return js.ReplaceAllStringFunc(s, func(m string) string {
		g := js.FindStringSubmatch(m)
		if g[6] == "" {
			return g[1] + `,"inner_map_id":` + id(g[2:6])
		}
		return g[1] + ",\n        \"inner_map_id\": " + id(g[2:6]) + g[7]
	})
}

func TestDumpPlainHex(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	dir := testutil.PinDir(t)

	cases := []struct {
		spec    ebpf.MapSpec
		entries int
	}{
		{ebpf.MapSpec{Name: "h4_8", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16}, 3},
		{ebpf.MapSpec{Name: "h8_16", Type: ebpf.Hash, KeySize: 8, ValueSize: 16, MaxEntries: 16}, 5},
		{ebpf.MapSpec{Name: "h16_16", Type: ebpf.Hash, KeySize: 16, ValueSize: 16, MaxEntries: 16}, 2},
		{ebpf.MapSpec{Name: "h4_40", Type: ebpf.LRUHash, KeySize: 4, ValueSize: 40, MaxEntries: 16}, 2},
		{ebpf.MapSpec{Name: "h20_4", Type: ebpf.Hash, KeySize: 20, ValueSize: 4, MaxEntries: 16}, 1},
		{ebpf.MapSpec{Name: "a4_20", Type: ebpf.Array, KeySize: 4, ValueSize: 20, MaxEntries: 3}, 3},
		{ebpf.MapSpec{Name: "a4_1", Type: ebpf.Array, KeySize: 4, ValueSize: 1, MaxEntries: 1}, 1},
		{ebpf.MapSpec{Name: "empty", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 0},
		{ebpf.MapSpec{Name: "pch", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 8}, 2},
		{ebpf.MapSpec{Name: "pca", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 20, MaxEntries: 2}, 2},
		{ebpf.MapSpec{Name: "lpch", Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 17, MaxEntries: 8}, 1},
		{ebpf.MapSpec{Name: "lpm", Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 8, Flags: 1}, 3},
	}
	ncpu, _ := ebpf.PossibleCPU()
	for _, c := range cases {
		t.Run(c.spec.Name, func(t *testing.T) {
			m, path := newMap(t, dir, &c.spec)
			for i := 0; i < c.entries; i++ {
				key := seq(int(c.spec.KeySize), byte(i*7))
				if c.spec.Type == ebpf.Array || c.spec.Type == ebpf.PerCPUArray {
					key = le32(uint32(i))
				}
				if c.spec.Type == ebpf.LPMTrie {
					key = append(le32(uint32(8+8*i)), 10, byte(i), 0, 0)
				}
				val := seq(int(c.spec.ValueSize), byte(0xf0-i))
				var v any = val
				if mapdata.IsPerCPU(c.spec.Type) {
					vals := make([][]byte, ncpu)
					for j := range vals {
						vals[j] = seq(int(c.spec.ValueSize), byte(j*16+i))
					}
					v = vals
				}
				if err := m.Update(key, v, ebpf.UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
			compareDump(t, m, path, nil, nil)
		})
	}
}

func TestDumpFdMaps(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	dir := testutil.PinDir(t)
	inner := &ebpf.MapSpec{Name: "inner", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	in1, _ := newMap(t, dir, inner)
	in2, _ := newMap(t, dir, &ebpf.MapSpec{Name: "inner2", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})

	aom, aomPath := newMap(t, dir, &ebpf.MapSpec{Name: "aom", Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, InnerMap: inner})
	if err := aom.Update(uint32(1), in1, ebpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if err := aom.Update(uint32(3), in2, ebpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	hom, homPath := newMap(t, dir, &ebpf.MapSpec{Name: "hom", Type: ebpf.HashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, InnerMap: inner})
	if err := hom.Update(uint32(7), in2, ebpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	pa, paPath := newMap(t, dir, &ebpf.MapSpec{Name: "pa", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	prog := testutil.NewProgram(t, &ebpf.ProgramSpec{Name: "bpfkit_t", Type: ebpf.SocketFilter, License: "GPL", Instructions: testutil.ReturnZero()})
	if err := pa.Update(uint32(2), prog, ebpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	compareDump(t, aom, aomPath, nil, nil)
	compareDump(t, hom, homPath, nil, nil)
	compareDump(t, pa, paPath, nil, nil)
}
