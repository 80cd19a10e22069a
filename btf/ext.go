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

// CoreRelo is one CO-RE relocation record of a .BTF.ext section (struct
// bpf_core_relo): which access to an instruction the loader fixes up from
// the target kernel's BTF.
type CoreRelo struct {
	// Section is the ELF section of the instruction.
	Section string
	// InsnOff is the instruction's byte offset in its section.
	InsnOff uint32
	// TypeID is the root type in the object's BTF.
	TypeID TypeID
	// Access is the accessor string: "0:1:2" (array index on the root,
	// then member or element indexes), or an enumerator index.
	Access string
	// Kind is enum bpf_core_relo_kind.
	Kind CoreReloKind
}

// CoreReloKind is enum bpf_core_relo_kind.
type CoreReloKind uint32

// The relocation kinds.
const (
	CoreFieldByteOffset CoreReloKind = iota
	CoreFieldByteSize
	CoreFieldExists
	CoreFieldSigned
	CoreFieldLShiftU64
	CoreFieldRShiftU64
	CoreTypeIDLocal
	CoreTypeIDTarget
	CoreTypeExists
	CoreTypeSize
	CoreEnumvalExists
	CoreEnumvalValue
	CoreTypeMatches
)

// CoreRelos reads the CO-RE relocations of a .BTF.ext section, with their
// section names and accessor strings from spec, the object's .BTF. Every
// offset is checked.
func CoreRelos(ext []byte, spec *Spec) ([]CoreRelo, error) {
	if len(ext) < extHeaderMinSize {
		return nil, errors.New("BTF.ext header truncated")
	}
	bo := magicOrder(ext)
	if bo == nil {
		return nil, errors.New("bad BTF.ext magic")
	}
	hdrLen := uint64(bo.Uint32(ext[extHdrLenAt:]))
	if hdrLen < extHeaderMinSize || hdrLen > uint64(len(ext)) {
		return nil, errors.New("BTF.ext header length out of range")
	}
	if hdrLen < extHeaderSize {
		return nil, nil // no CO-RE relocations in an old header
	}
	body := ext[hdrLen:]
	off := uint64(bo.Uint32(ext[extCoreReloAt:]))
	n := uint64(bo.Uint32(ext[extCoreReloAt+4:]))
	if n == 0 {
		return nil, nil
	}
	if off > uint64(len(body)) || n > uint64(len(body))-off {
		return nil, errors.New("BTF.ext subsection out of range")
	}
	b := body[off : off+n]
	if len(b) < 4 {
		return nil, errors.New("BTF.ext record size truncated")
	}
	const recMin = 16 // insn_off, type_id, access_str_off, kind
	recSize := uint64(bo.Uint32(b))
	if recSize < recMin {
		return nil, errors.New("BTF.ext CO-RE record size too small")
	}
	var relos []CoreRelo
	for p := uint64(4); p < uint64(len(b)); {
		if uint64(len(b))-p < 8 {
			return nil, errors.New("BTF.ext section header truncated")
		}
		sec, ok := spec.str(bo.Uint32(b[p:]))
		if !ok {
			return nil, errors.New("BTF.ext section name out of range")
		}
		count := uint64(bo.Uint32(b[p+4:]))
		p += 8
		if count > (uint64(len(b))-p)/recSize {
			return nil, errors.New("BTF.ext records run past the subsection")
		}
		for range count {
			r := b[p : p+recSize]
			access, ok := spec.str(bo.Uint32(r[8:]))
			if !ok {
				return nil, errors.New("BTF.ext accessor string out of range")
			}
			relos = append(relos, CoreRelo{
				Section: sec, InsnOff: bo.Uint32(r), TypeID: TypeID(bo.Uint32(r[4:])),
				Access: access, Kind: CoreReloKind(bo.Uint32(r[12:])),
			})
			p += recSize
		}
	}
	return relos, nil
}
