package btf

import (
	"encoding/binary"
	"errors"
)

// Big-endian BPF objects (clang -target bpfeb) hold BTF and .BTF.ext in
// big-endian: the 16-bit magic, then 32-bit words everywhere but in the
// string section. Marshal and MarshalExt write little-endian; these turn
// what they wrote into the other byte order.

// swapWords rewrites the 32-bit words of b from little- to big-endian.
func swapWords(b []byte) {
	for i := 0; i+4 <= len(b); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.LittleEndian.Uint32(b[i:]))
	}
}

// BigEndianBTF returns a little-endian BTF blob (as Marshal writes it) in
// big-endian: header and type section swapped, strings as they are.
func BigEndianBTF(le []byte) ([]byte, error) {
	if len(le) < headerSize || binary.LittleEndian.Uint16(le) != btfMagic {
		return nil, errors.New("BTF to big-endian: not little-endian BTF")
	}
	out := append([]byte(nil), le...)
	hdrLen := uint64(binary.LittleEndian.Uint32(le[4:]))
	typeOff := uint64(binary.LittleEndian.Uint32(le[8:]))
	typeLen := uint64(binary.LittleEndian.Uint32(le[12:]))
	if hdrLen < headerSize || hdrLen%4 != 0 || typeOff%4 != 0 || typeLen%4 != 0 || hdrLen+typeOff+typeLen > uint64(len(le)) {
		return nil, errors.New("BTF to big-endian: header out of range")
	}
	binary.BigEndian.PutUint16(out, btfMagic)
	swapWords(out[4:hdrLen])
	swapWords(out[hdrLen+typeOff : hdrLen+typeOff+typeLen])
	return out, nil
}

// BigEndianExt returns a little-endian .BTF.ext section (as MarshalExt
// writes it) in big-endian: every field after the magic, version and
// flags is a 32-bit word.
func BigEndianExt(le []byte) ([]byte, error) {
	if len(le) < extHeaderMinSize || len(le)%4 != 0 || binary.LittleEndian.Uint16(le) != btfMagic {
		return nil, errors.New("BTF.ext to big-endian: not little-endian BTF.ext")
	}
	out := append([]byte(nil), le...)
	binary.BigEndian.PutUint16(out, btfMagic)
	swapWords(out[4:])
	return out, nil
}
