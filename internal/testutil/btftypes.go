package testutil

import (
	"encoding/binary"

	ebpfbtf "github.com/cilium/ebpf/btf"
)

// BTF types for tests, covering every kind the typed formatter prints.
var (
	BTFU8    = &ebpfbtf.Int{Name: "unsigned char", Size: 1}
	BTFChar  = &ebpfbtf.Int{Name: "char", Size: 1, Encoding: ebpfbtf.Signed}
	BTFXChar = &ebpfbtf.Int{Name: "xchar", Size: 1, Encoding: ebpfbtf.Char}
	BTFBool  = &ebpfbtf.Int{Name: "_Bool", Size: 1, Encoding: ebpfbtf.Bool}
	BTFU16   = &ebpfbtf.Int{Name: "short unsigned int", Size: 2}
	BTFS16   = &ebpfbtf.Int{Name: "short int", Size: 2, Encoding: ebpfbtf.Signed}
	BTFU32   = &ebpfbtf.Int{Name: "unsigned int", Size: 4}
	BTFS32   = &ebpfbtf.Int{Name: "int", Size: 4, Encoding: ebpfbtf.Signed}
	BTFU64   = &ebpfbtf.Int{Name: "long long unsigned int", Size: 8}
	BTFS64   = &ebpfbtf.Int{Name: "long long int", Size: 8, Encoding: ebpfbtf.Signed}
	BTFU128  = &ebpfbtf.Int{Name: "unsigned __int128", Size: 16}
	BTFColor = &ebpfbtf.Enum{Name: "color", Size: 4, Values: []ebpfbtf.EnumValue{
		{Name: "RED", Value: 0}, {Name: "GREEN", Value: 1}, {Name: "BLUE", Value: 7}}}
	BTFSmallEnum = &ebpfbtf.Enum{Name: "small", Size: 1, Signed: true, Values: []ebpfbtf.EnumValue{
		{Name: "MINUS", Value: 0xffffffffffffffff}, {Name: "ONE", Value: 1}}}
	BTFMyU32 = &ebpfbtf.Typedef{Name: "my_u32", Type: BTFU32}
	BTFUnion = &ebpfbtf.Union{Size: 4, Members: []ebpfbtf.Member{
		{Name: "x", Type: BTFU32}, {Name: "y", Type: BTFU16}}}
	BTFKey = &ebpfbtf.Struct{Name: "key", Size: 8, Members: []ebpfbtf.Member{
		{Name: "id", Type: BTFU32, Offset: 0},
		{Name: "port", Type: BTFU16, Offset: 32},
		{Name: "proto", Type: BTFU8, Offset: 48},
		{Name: "c", Type: BTFChar, Offset: 56},
	}}
	BTFVal = &ebpfbtf.Struct{Name: "val", Size: 104, Members: []ebpfbtf.Member{
		{Name: "a", Type: BTFU32, Offset: 0},
		{Name: "b", Type: BTFS32, Offset: 32},
		{Name: "name", Type: &ebpfbtf.Array{Index: BTFU32, Type: BTFChar, Nelems: 8}, Offset: 64},
		{Name: "flag", Type: BTFBool, Offset: 128},
		{Name: "c", Type: BTFXChar, Offset: 136},
		{Name: "c2", Type: BTFXChar, Offset: 144},
		{Name: "e8", Type: BTFSmallEnum, Offset: 152},
		{Name: "col", Type: BTFColor, Offset: 160},
		{Name: "bf1", Type: BTFU32, Offset: 192, BitfieldSize: 3},
		{Name: "bf2", Type: BTFU32, Offset: 195, BitfieldSize: 13},
		{Name: "s16", Type: BTFS16, Offset: 208},
		{Name: "arr", Type: &ebpfbtf.Array{Index: BTFU32, Type: BTFU16, Nelems: 3}, Offset: 224},
		{Name: "u", Type: BTFUnion, Offset: 288},
		{Name: "p", Type: &ebpfbtf.Pointer{Target: BTFU32}, Offset: 320},
		{Name: "q", Type: &ebpfbtf.Pointer{Target: BTFU32}, Offset: 384},
		{Name: "big", Type: BTFU64, Offset: 448},
		{Name: "h", Type: BTFU128, Offset: 512},
		{Name: "neg", Type: BTFS64, Offset: 640},
		{Name: "bin", Type: &ebpfbtf.Array{Index: BTFU32, Type: BTFChar, Nelems: 4}, Offset: 704},
		{Name: "t", Type: BTFMyU32, Offset: 736},
		{Name: "cv", Type: &ebpfbtf.Const{Type: &ebpfbtf.Volatile{Type: BTFU32}}, Offset: 768},
		{Name: "", Type: &ebpfbtf.Struct{Size: 4, Members: []ebpfbtf.Member{{Name: "inner", Type: BTFU32}}}, Offset: 800},
	}}
)

// BTFValue returns test value i of BTFVal: 104 bytes that give every
// member a value worth printing. i%3 picks the enum member; value 1's name
// has no NUL, so it prints as an array.
func BTFValue(i int) []byte {
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
