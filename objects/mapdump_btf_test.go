package objects

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// Test types covering every kind the typed formatter prints.
var (
	tU8    = &ebpfbtf.Int{Name: "unsigned char", Size: 1}
	tChar  = &ebpfbtf.Int{Name: "char", Size: 1, Encoding: ebpfbtf.Signed}
	tXChar = &ebpfbtf.Int{Name: "xchar", Size: 1, Encoding: ebpfbtf.Char}
	tBool  = &ebpfbtf.Int{Name: "_Bool", Size: 1, Encoding: ebpfbtf.Bool}
	tU16   = &ebpfbtf.Int{Name: "short unsigned int", Size: 2}
	tS16   = &ebpfbtf.Int{Name: "short int", Size: 2, Encoding: ebpfbtf.Signed}
	tU32   = &ebpfbtf.Int{Name: "unsigned int", Size: 4}
	tS32   = &ebpfbtf.Int{Name: "int", Size: 4, Encoding: ebpfbtf.Signed}
	tU64   = &ebpfbtf.Int{Name: "long long unsigned int", Size: 8}
	tS64   = &ebpfbtf.Int{Name: "long long int", Size: 8, Encoding: ebpfbtf.Signed}
	tU128  = &ebpfbtf.Int{Name: "unsigned __int128", Size: 16}
	tColor = &ebpfbtf.Enum{Name: "color", Size: 4, Values: []ebpfbtf.EnumValue{
		{Name: "RED", Value: 0}, {Name: "GREEN", Value: 1}, {Name: "BLUE", Value: 7}}}
	tSmallEnum = &ebpfbtf.Enum{Name: "small", Size: 1, Signed: true, Values: []ebpfbtf.EnumValue{
		{Name: "MINUS", Value: 0xffffffffffffffff}, {Name: "ONE", Value: 1}}}
	tMyU32 = &ebpfbtf.Typedef{Name: "my_u32", Type: tU32}
	tUnion = &ebpfbtf.Union{Size: 4, Members: []ebpfbtf.Member{
		{Name: "x", Type: tU32}, {Name: "y", Type: tU16}}}
	tKey = &ebpfbtf.Struct{Name: "key", Size: 8, Members: []ebpfbtf.Member{
		{Name: "id", Type: tU32, Offset: 0},
		{Name: "port", Type: tU16, Offset: 32},
		{Name: "proto", Type: tU8, Offset: 48},
		{Name: "c", Type: tChar, Offset: 56},
	}}
	tVal = &ebpfbtf.Struct{Name: "val", Size: 104, Members: []ebpfbtf.Member{
		{Name: "a", Type: tU32, Offset: 0},
		{Name: "b", Type: tS32, Offset: 32},
		{Name: "name", Type: &ebpfbtf.Array{Index: tU32, Type: tChar, Nelems: 8}, Offset: 64},
		{Name: "flag", Type: tBool, Offset: 128},
		{Name: "c", Type: tXChar, Offset: 136},
		{Name: "c2", Type: tXChar, Offset: 144},
		{Name: "e8", Type: tSmallEnum, Offset: 152},
		{Name: "col", Type: tColor, Offset: 160},
		{Name: "bf1", Type: tU32, Offset: 192, BitfieldSize: 3},
		{Name: "bf2", Type: tU32, Offset: 195, BitfieldSize: 13},
		{Name: "s16", Type: tS16, Offset: 208},
		{Name: "arr", Type: &ebpfbtf.Array{Index: tU32, Type: tU16, Nelems: 3}, Offset: 224},
		{Name: "u", Type: tUnion, Offset: 288},
		{Name: "p", Type: &ebpfbtf.Pointer{Target: tU32}, Offset: 320},
		{Name: "q", Type: &ebpfbtf.Pointer{Target: tU32}, Offset: 384},
		{Name: "big", Type: tU64, Offset: 448},
		{Name: "h", Type: tU128, Offset: 512},
		{Name: "neg", Type: tS64, Offset: 640},
		{Name: "bin", Type: &ebpfbtf.Array{Index: tU32, Type: tChar, Nelems: 4}, Offset: 704},
		{Name: "t", Type: tMyU32, Offset: 736},
		{Name: "cv", Type: &ebpfbtf.Const{Type: &ebpfbtf.Volatile{Type: tU32}}, Offset: 768},
		{Name: "", Type: &ebpfbtf.Struct{Size: 4, Members: []ebpfbtf.Member{{Name: "inner", Type: tU32}}}, Offset: 800},
	}}
)

func testValue(i int) []byte {
	v := make([]byte, 104)
	le := binary.LittleEndian
	le.PutUint32(v[0:], uint32(1000+i))
	le.PutUint32(v[4:], uint32(int32(-5*i)))
	copy(v[8:], "abc")
	if i == 1 {
		copy(v[8:], "8 chars!") // no NUL: printed as an array
	}
	v[16] = byte(i & 1)
	v[17] = 'Z'
	v[18] = 0x7 + byte(i)
	v[19] = 0xff
	le.PutUint32(v[20:], []uint32{0, 7, 3}[i%3])
	le.PutUint32(v[24:], uint32(5|(4000+i)<<3))
	le.PutUint16(v[26:], uint16(0xfff0))
	le.PutUint16(v[28:], 1)
	le.PutUint16(v[30:], 2)
	le.PutUint16(v[32:], 65535)
	le.PutUint32(v[36:], 0x10002)
	le.PutUint64(v[40:], 0xffff888012345678)
	le.PutUint64(v[48:], 0)
	le.PutUint64(v[56:], 1<<63+uint64(i))
	le.PutUint64(v[64:], 0xdeadbeef)
	le.PutUint64(v[72:], uint64(i))
	le.PutUint64(v[80:], uint64(int64(-1-i)))
	copy(v[88:], []byte{1, 2, 3, 4})
	le.PutUint32(v[92:], 42)
	le.PutUint32(v[96:], 43)
	le.PutUint32(v[100:], 44)
	return v
}

func TestDumpBTF(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireTool(t, "bpftool")
	dir := pinDir(t)
	ncpu, _ := ebpf.PossibleCPU()

	t.Run("hash", func(t *testing.T) {
		m, path := newMap(t, dir, &ebpf.MapSpec{Name: "btf_hash", Type: ebpf.Hash,
			KeySize: 8, ValueSize: 104, MaxEntries: 8, Key: tKey, Value: tVal})
		for i := 0; i < 3; i++ {
			key := []byte{byte(i), 0, 0, 0, 80, 0, 6, 'k'}
			if err := m.Put(key, testValue(i)); err != nil {
				t.Fatal(err)
			}
		}
		compareDump(t, m, path, tKey, tVal)
	})
	t.Run("array", func(t *testing.T) {
		m, path := newMap(t, dir, &ebpf.MapSpec{Name: "btf_array", Type: ebpf.Array,
			KeySize: 4, ValueSize: 4, MaxEntries: 3, Key: tU32, Value: tColor})
		m.Put(uint32(1), uint32(7))
		m.Put(uint32(2), uint32(99))
		compareDump(t, m, path, tU32, tColor)
	})
	t.Run("percpu", func(t *testing.T) {
		m, path := newMap(t, dir, &ebpf.MapSpec{Name: "btf_pcpu", Type: ebpf.PerCPUHash,
			KeySize: 4, ValueSize: 8, MaxEntries: 4, Key: tMyU32, Value: tS64})
		vals := make([]uint64, ncpu)
		for i := range vals {
			vals[i] = uint64(i) * 11
		}
		m.Put(uint32(5), vals)
		compareDump(t, m, path, tMyU32, tS64)
	})
	t.Run("datasec", func(t *testing.T) {
		ds := &ebpfbtf.Datasec{Name: ".data", Size: 24, Vars: []ebpfbtf.VarSecinfo{
			{Type: &ebpfbtf.Var{Name: "counter", Type: tU64, Linkage: ebpfbtf.GlobalVar}, Offset: 0, Size: 8},
			{Type: &ebpfbtf.Var{Name: "label", Type: &ebpfbtf.Array{Index: tU32, Type: tChar, Nelems: 12}, Linkage: ebpfbtf.GlobalVar}, Offset: 8, Size: 12},
			{Type: &ebpfbtf.Var{Name: "on", Type: tBool, Linkage: ebpfbtf.GlobalVar}, Offset: 20, Size: 1},
		}}
		m, path := newMap(t, dir, &ebpf.MapSpec{Name: "btf_data", Type: ebpf.Array,
			KeySize: 4, ValueSize: 24, MaxEntries: 1, Key: tS32, Value: ds})
		v := make([]byte, 24)
		v[0] = 9
		copy(v[8:], "hello")
		v[20] = 1
		if err := m.Put(uint32(0), v); err != nil {
			t.Fatal(err)
		}
		compareDump(t, m, path, tS32, ds)
	})
}
