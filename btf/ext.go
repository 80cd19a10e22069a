package btf

import (
	"encoding/binary"
	"errors"
)

// .BTF.ext is the section beside .BTF that tells the loader where each
// function and source line starts and which accesses to relocate (struct
// btf_ext_header in the kernel's include/uapi/linux/btf.h, libbpf's
// btf.c). bpfkit only counts its records.

// The header: magic (16 bits), version, flags, hdr_len, then the offset
// and length of each subsection, relative to the end of the header. Old
// headers end before the CO-RE relocations.
const (
	extHdrLenAt      = 4
	extFuncInfoAt    = 8  // func_info_off, func_info_len
	extLineInfoAt    = 16 // line_info_off, line_info_len
	extCoreReloAt    = 24 // core_relo_off, core_relo_len
	extHeaderMinSize = 24
	extHeaderSize    = 32 // with the CO-RE relocations
)

// ExtCounts are the record counts of a .BTF.ext section.
type ExtCounts struct {
	FuncInfos, LineInfos, CoreRelos int
}

// CountExt counts the records of a .BTF.ext section. Every offset and
// count is checked against the section, so a hostile one yields an error.
func CountExt(b []byte) (ExtCounts, error) {
	var c ExtCounts
	if len(b) < extHeaderMinSize {
		return c, errors.New("BTF.ext header truncated")
	}
	bo := magicOrder(b)
	if bo == nil {
		return c, errors.New("bad BTF.ext magic")
	}
	hdrLen := uint64(bo.Uint32(b[extHdrLenAt:]))
	if hdrLen < extHeaderMinSize || hdrLen > uint64(len(b)) {
		return c, errors.New("BTF.ext header length out of range")
	}
	body := b[hdrLen:]
	count := func(at int) (int, error) {
		off := uint64(bo.Uint32(b[at:]))
		n := uint64(bo.Uint32(b[at+4:]))
		if n == 0 {
			return 0, nil
		}
		if off > uint64(len(body)) || n > uint64(len(body))-off {
			return 0, errors.New("BTF.ext subsection out of range")
		}
		return extRecords(body[off:off+n], bo)
	}
	var err error
	if c.FuncInfos, err = count(extFuncInfoAt); err != nil {
		return c, err
	}
	if c.LineInfos, err = count(extLineInfoAt); err != nil {
		return c, err
	}
	if hdrLen >= extHeaderSize {
		if c.CoreRelos, err = count(extCoreReloAt); err != nil {
			return c, err
		}
	}
	return c, nil
}

// extRecords counts the records of one subsection: a record size, then
// per ELF section its name offset, a record count and the records.
func extRecords(b []byte, bo binary.ByteOrder) (int, error) {
	const secHeaderSize = 8 // sec_name_off, num_info
	if len(b) < 4 {
		return 0, errors.New("BTF.ext record size truncated")
	}
	recSize := uint64(bo.Uint32(b))
	if recSize == 0 {
		return 0, errors.New("BTF.ext record size is zero")
	}
	total := 0
	for off := uint64(4); off < uint64(len(b)); {
		if uint64(len(b))-off < secHeaderSize {
			return total, errors.New("BTF.ext section header truncated")
		}
		n := uint64(bo.Uint32(b[off+4:]))
		off += secHeaderSize
		if n > (uint64(len(b))-off)/recSize {
			return total, errors.New("BTF.ext records run past the subsection")
		}
		off += n * recSize
		total += int(n)
	}
	return total, nil
}
