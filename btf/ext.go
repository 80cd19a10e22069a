package btf

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// .BTF.ext is the section beside .BTF that tells the loader where each
// function and source line starts and which accesses to relocate (struct
// btf_ext_header in the kernel's include/uapi/linux/btf.h, libbpf's
// btf.c). CountExt counts its records, ParseExt reads them and MarshalExt
// writes them (extinfo.go).

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

// coreReloKindNames are libbpf's names of the kinds.
var coreReloKindNames = [...]string{
	"field_byte_offset", "field_byte_size", "field_exists", "field_signed",
	"field_lshift_u64", "field_rshift_u64", "type_id_local", "type_id_target",
	"type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
}

// String is libbpf's name of the kind ("field_byte_offset"), or its
// number when it has none.
func (k CoreReloKind) String() string {
	if int(k) < len(coreReloKindNames) {
		return coreReloKindNames[k]
	}
	return strconv.FormatUint(uint64(k), 10)
}

// CoreReloKindByName is the kind libbpf names name.
func CoreReloKindByName(name string) (CoreReloKind, bool) {
	for i, n := range coreReloKindNames {
		if n == name {
			return CoreReloKind(i), true
		}
	}
	return 0, false
}

// CoreRelos reads the CO-RE relocations of a .BTF.ext section (those of
// ParseExt, in one list), with their section names and accessor strings
// from spec, the object's .BTF. Every offset is checked.
func CoreRelos(ext []byte, spec *Spec) ([]CoreRelo, error) {
	secs, err := ParseExt(ext, spec)
	if err != nil {
		return nil, err
	}
	var relos []CoreRelo
	for _, sec := range secs {
		for _, r := range sec.Relos {
			r.Section = sec.Name
			relos = append(relos, r)
		}
	}
	return relos, nil
}
