package render

import (
	"testing"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

func TestDumpBTF(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	dir := testutil.PinDir(t)
	ncpu, _ := ebpf.PossibleCPU()

	t.Run("hash", func(t *testing.T) {
		m, path := newMap(t, dir, &ebpf.MapSpec{Name: "btf_hash", Type: ebpf.Hash,
			KeySize: 8, ValueSize: 104, MaxEntries: 8, Key: testutil.BTFKey, Value: testutil.BTFVal})
		for i := 0; i < 3; i++ {
			key := []byte{byte(i), 0, 0, 0, 80, 0, 6, 'k'}
			if err := m.Put(key, testutil.BTFValue(i)); err != nil {
				t.Fatal(err)
			}
		}
		compareDump(t, m, path, testutil.BTFKey, testutil.BTFVal)
	})
	t.Run("array", func(t *testing.T) {
		m, path := newMap(t, dir, &ebpf.MapSpec{Name: "btf_array", Type: ebpf.Array,
			KeySize: 4, ValueSize: 4, MaxEntries: 3, Key: testutil.BTFU32, Value: testutil.BTFColor})
		m.Put(uint32(1), uint32(7))
		m.Put(uint32(2), uint32(99))
		compareDump(t, m, path, testutil.BTFU32, testutil.BTFColor)
	})
	t.Run("percpu", func(t *testing.T) {
		m, path := newMap(t, dir, &ebpf.MapSpec{Name: "btf_pcpu", Type: ebpf.PerCPUHash,
			KeySize: 4, ValueSize: 8, MaxEntries: 4, Key: testutil.BTFMyU32, Value: testutil.BTFS64})
		vals := make([]uint64, ncpu)
		for i := range vals {
			vals[i] = uint64(i) * 11
		}
		m.Put(uint32(5), vals)
		compareDump(t, m, path, testutil.BTFMyU32, testutil.BTFS64)
	})
	t.Run("datasec", func(t *testing.T) {
		ds := &ebpfbtf.Datasec{Name: ".data", Size: 24, Vars: []ebpfbtf.VarSecinfo{
			{Type: &ebpfbtf.Var{Name: "counter", Type: testutil.BTFU64, Linkage: ebpfbtf.GlobalVar}, Offset: 0, Size: 8},
			{Type: &ebpfbtf.Var{Name: "label", Type: &ebpfbtf.Array{Index: testutil.BTFU32, Type: testutil.BTFChar, Nelems: 12}, Linkage: ebpfbtf.GlobalVar}, Offset: 8, Size: 12},
			{Type: &ebpfbtf.Var{Name: "on", Type: testutil.BTFBool, Linkage: ebpfbtf.GlobalVar}, Offset: 20, Size: 1},
		}}
		m, path := newMap(t, dir, &ebpf.MapSpec{Name: "btf_data", Type: ebpf.Array,
			KeySize: 4, ValueSize: 24, MaxEntries: 1, Key: testutil.BTFS32, Value: ds})
		v := make([]byte, 24)
		v[0] = 9
		copy(v[8:], "hello")
		v[20] = 1
		if err := m.Put(uint32(0), v); err != nil {
			t.Fatal(err)
		}
		compareDump(t, m, path, testutil.BTFS32, ds)
	})
}
