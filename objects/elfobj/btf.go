package elfobj

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The .BTF and .BTF.ext sections are read here only far enough to count
// what they hold; their bounds are checked against the section, so a
// hostile section can only produce an error.

const btfMagic = 0xeb9f

// btfTypeCount counts the types in a .BTF section.
func btfTypeCount(b []byte, bo binary.ByteOrder) (int, error) {
	if len(b) < 24 {
		return 0, errors.New("BTF header truncated")
	}
	if bo.Uint16(b[0:]) != btfMagic {
		return 0, errors.New("bad BTF magic")
	}
	hdrLen := uint64(bo.Uint32(b[4:]))
	typeOff := uint64(bo.Uint32(b[8:]))
	typeLen := uint64(bo.Uint32(b[12:]))
	if hdrLen < 24 || hdrLen > uint64(len(b)) {
		return 0, errors.New("BTF header length out of range")
	}
	body := b[hdrLen:]
	if typeOff > uint64(len(body)) || typeLen > uint64(len(body))-typeOff {
		return 0, errors.New("BTF type section out of range")
	}
	t := body[typeOff : typeOff+typeLen]
	n := 0
	for off := uint64(0); off < uint64(len(t)); {
		if uint64(len(t))-off < 12 {
			return n, errors.New("BTF type truncated")
		}
		info := bo.Uint32(t[off+4:])
		kind := (info >> 24) & 0x1f
		vlen := uint64(info & 0xffff)
		var extra uint64
		switch kind {
		case 1, 14, 17: // INT, VAR, DECL_TAG
			extra = 4
		case 2, 7, 8, 9, 10, 11, 12, 16, 18: // PTR .. FUNC, FLOAT, TYPE_TAG
		case 3: // ARRAY
			extra = 12
		case 4, 5, 15, 19: // STRUCT, UNION, DATASEC, ENUM64
			extra = vlen * 12
		case 6, 13: // ENUM, FUNC_PROTO
			extra = vlen * 8
		default:
			return n, fmt.Errorf("unknown BTF kind %d", kind)
		}
		off += 12
		if extra > uint64(len(t))-off {
			return n, errors.New("BTF type truncated")
		}
		off += extra
		n++
	}
	return n, nil
}

// btfExtCounts are the record counts of a .BTF.ext section.
type btfExtCounts struct {
	FuncInfos, LineInfos, CoreRelos int
}

func btfExtCount(b []byte, bo binary.ByteOrder) (btfExtCounts, error) {
	var c btfExtCounts
	if len(b) < 24 {
		return c, errors.New("BTF.ext header truncated")
	}
	if bo.Uint16(b[0:]) != btfMagic {
		return c, errors.New("bad BTF.ext magic")
	}
	hdrLen := uint64(bo.Uint32(b[4:]))
	if hdrLen < 24 || hdrLen > uint64(len(b)) {
		return c, errors.New("BTF.ext header length out of range")
	}
	body := b[hdrLen:]
	count := func(offAt, lenAt int) (int, error) {
		off := uint64(bo.Uint32(b[offAt:]))
		n := uint64(bo.Uint32(b[lenAt:]))
		if n == 0 {
			return 0, nil
		}
		if off > uint64(len(body)) || n > uint64(len(body))-off {
			return 0, errors.New("BTF.ext subsection out of range")
		}
		return btfExtRecords(body[off:off+n], bo)
	}
	var err error
	if c.FuncInfos, err = count(8, 12); err != nil {
		return c, err
	}
	if c.LineInfos, err = count(16, 20); err != nil {
		return c, err
	}
	if hdrLen >= 32 {
		if c.CoreRelos, err = count(24, 28); err != nil {
			return c, err
		}
	}
	return c, nil
}

// btfExtRecords counts the records of one BTF.ext subsection: a record
// size, then per ELF section a name offset, a count and the records.
func btfExtRecords(b []byte, bo binary.ByteOrder) (int, error) {
	if len(b) < 4 {
		return 0, errors.New("BTF.ext record size truncated")
	}
	recSize := uint64(bo.Uint32(b))
	if recSize == 0 {
		return 0, errors.New("BTF.ext record size is zero")
	}
	total := 0
	for off := uint64(4); off < uint64(len(b)); {
		if uint64(len(b))-off < 8 {
			return total, errors.New("BTF.ext section header truncated")
		}
		n := uint64(bo.Uint32(b[off+4:]))
		off += 8
		if n > (uint64(len(b))-off)/recSize {
			return total, errors.New("BTF.ext records run past the subsection")
		}
		off += n * recSize
		total += int(n)
	}
	return total, nil
}
