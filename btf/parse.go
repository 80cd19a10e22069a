package btf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/bpfkit/bpfkit/internal/infile"
	"strings"
)

// This file is a small parser of the BTF wire format
// (Documentation/bpf/btf.rst). It keeps every field bpftool prints, which
// cilium/ebpf's btf package folds away (DECL_TAG types, the bit offset and
// width of INT types, unfixed DATASEC sizes), and it checks every offset,
// length, string and type reference, so a hostile blob yields an error.

// TypeID is the number of a type in a BTF blob; 0 is void.
type TypeID uint32

// Kind is a BTF type kind (BTF_KIND_*).
type Kind uint8

// The BTF kinds.
const (
	KindUnknown Kind = iota
	KindInt
	KindPtr
	KindArray
	KindStruct
	KindUnion
	KindEnum
	KindFwd
	KindTypedef
	KindVolatile
	KindConst
	KindRestrict
	KindFunc
	KindFuncProto
	KindVar
	KindDatasec
	KindFloat
	KindDeclTag
	KindTypeTag
	KindEnum64
	kindMax
)

var kindNames = [...]string{
	"UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF",
	"VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT",
	"DECL_TAG", "TYPE_TAG", "ENUM64",
}

// String returns the kind as bpftool prints it: INT, FUNC_PROTO, ...
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "UNKNOWN"
}

// INT encoding bits.
const (
	IntSigned = 1 << 0
	IntChar   = 1 << 1
	IntBool   = 1 << 2
)

// Member is a struct or union member, a function parameter (Offset unused)
// or, for DATASEC, a variable (Type, Offset and Size).
type Member struct {
	Name   string
	Type   TypeID
	Offset uint32 // raw: bit offset, or bitfield size << 24 | bit offset with kflag
}

// EnumValue is one enumerator of an ENUM or ENUM64.
type EnumValue struct {
	Name string
	Val  uint64 // ENUM values are sign- or zero-extended per kflag when read with Signed
}

// SecVar is one variable of a DATASEC.
type SecVar struct {
	Type   TypeID
	Offset uint32
	Size   uint32
}

// Type is one BTF type with its kind-specific data.
type Type struct {
	Name  string
	Kind  Kind
	KFlag bool
	Vlen  uint16
	// Size is the byte size of INT, ENUM, ENUM64, STRUCT, UNION, DATASEC
	// and FLOAT types.
	Size uint32
	// Type is the referenced type of PTR, TYPEDEF, VOLATILE, CONST,
	// RESTRICT, TYPE_TAG, FUNC, VAR and DECL_TAG, the return type of
	// FUNC_PROTO and the element type of ARRAY.
	Type TypeID
	// IntEncoding, IntOffset and IntBits describe an INT.
	IntEncoding, IntOffset, IntBits uint8
	// Index and Nelems describe an ARRAY.
	Index  TypeID
	Nelems uint32
	// Linkage is the linkage of FUNC (from vlen) and VAR types.
	Linkage uint32
	// ComponentIdx is the member or parameter a DECL_TAG applies to, -1
	// for the type itself.
	ComponentIdx int32
	Members      []Member    // STRUCT, UNION, FUNC_PROTO params
	Values       []EnumValue // ENUM, ENUM64
	Vars         []SecVar    // DATASEC
}

// BitOffset returns the bit offset of member m of struct or union t.
func (t *Type) BitOffset(m *Member) uint32 {
	if t.KFlag {
		return m.Offset & 0xffffff
	}
	return m.Offset
}

// BitfieldSize returns the bitfield width of member m, 0 if it is not a
// bitfield (or is an old-style INT bitfield, see the C dumper).
func (t *Type) BitfieldSize(m *Member) uint32 {
	if t.KFlag {
		return m.Offset >> 24
	}
	return 0
}

// Spec is a parsed BTF blob: its types, and for split BTF the base it
// extends.
type Spec struct {
	types   []Type // types[i] has ID firstID+i
	firstID TypeID
	base    *Spec
	strs    string
	strBase uint32
	order   binary.ByteOrder
}

var voidType = Type{}

// Type returns the type with id, or nil when there is none. ID 0 is the
// void type (kind UNKNOWN).
func (s *Spec) Type(id TypeID) *Type {
	if id == 0 {
		return &voidType
	}
	if id < s.firstID {
		if s.base == nil {
			return nil
		}
		return s.base.Type(id)
	}
	i := uint64(id - s.firstID)
	if i >= uint64(len(s.types)) {
		return nil
	}
	return &s.types[i]
}

// FirstID is the first type ID the blob itself defines: 1, or one past the
// base's last type for split BTF.
func (s *Spec) FirstID() TypeID { return s.firstID }

// End is one past the last type ID.
func (s *Spec) End() TypeID { return s.firstID + TypeID(len(s.types)) }

// Base is the base of split BTF, or nil.
func (s *Spec) Base() *Spec { return s.base }

// ByteOrder is the byte order of the blob.
func (s *Spec) ByteOrder() binary.ByteOrder { return s.order }

const (
	btfMagic   = 0xeb9f
	headerSize = 24
	// maxTypes bounds the number of types (the kernel's BTF_MAX_TYPE).
	maxTypes = 0x000fffff
)

// ErrNotBTF is returned for data that is not BTF.
var ErrNotBTF = errors.New("not BTF data")

// magicOrder is the byte order in which data (BTF or .BTF.ext, at least
// 2 bytes) starts with the BTF magic, or nil.
func magicOrder(data []byte) binary.ByteOrder {
	switch {
	case binary.LittleEndian.Uint16(data) == btfMagic:
		return binary.LittleEndian
	case binary.BigEndian.Uint16(data) == btfMagic:
		return binary.BigEndian
	}
	return nil
}

// Parse parses a raw BTF blob. base is the base of split BTF (module BTF,
// whose types and strings continue the base's), or nil.
func Parse(data []byte, base *Spec) (*Spec, error) {
	if len(data) < headerSize {
		return nil, fmt.Errorf("parse BTF: %w: header truncated", ErrNotBTF)
	}
	bo := magicOrder(data)
	if bo == nil {
		return nil, fmt.Errorf("parse BTF: %w: bad magic", ErrNotBTF)
	}
	if data[2] != 1 {
		return nil, fmt.Errorf("parse BTF: unsupported version %d", data[2])
	}
	hdrLen := uint64(bo.Uint32(data[4:]))
	typeOff := uint64(bo.Uint32(data[8:]))
	typeLen := uint64(bo.Uint32(data[12:]))
	strOff := uint64(bo.Uint32(data[16:]))
	strLen := uint64(bo.Uint32(data[20:]))
	if hdrLen < headerSize || hdrLen > uint64(len(data)) {
		return nil, errors.New("parse BTF: header length out of range")
	}
	body := data[hdrLen:]
	if typeOff > uint64(len(body)) || typeLen > uint64(len(body))-typeOff {
		return nil, errors.New("parse BTF: type section out of range")
	}
	if strOff > uint64(len(body)) || strLen > uint64(len(body))-strOff {
		return nil, errors.New("parse BTF: string section out of range")
	}
	if typeLen%4 != 0 {
		return nil, errors.New("parse BTF: type section length not a multiple of 4")
	}
	s := &Spec{base: base, order: bo, firstID: 1}
	strs := body[strOff : strOff+strLen]
	if base != nil {
		s.firstID = base.End()
		s.strBase = base.strBase + uint32(len(base.strs))
	} else if strLen == 0 || strs[0] != 0 {
		return nil, errors.New("parse BTF: string section does not start with an empty string")
	}
	if strLen > 0 && strs[strLen-1] != 0 {
		return nil, errors.New("parse BTF: string section not NUL-terminated")
	}
	s.strs = string(strs)
	types := body[typeOff : typeOff+typeLen]
	if bo == binary.BigEndian {
		// Every field of the type section is a 32-bit word: swap them
		// all once and parse little-endian.
		swapped := make([]byte, len(types))
		for i := 0; i+4 <= len(types); i += 4 {
			binary.LittleEndian.PutUint32(swapped[i:], binary.BigEndian.Uint32(types[i:]))
		}
		types = swapped
	}
	if err := s.parseTypes(types); err != nil {
		return nil, fmt.Errorf("parse BTF: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("parse BTF: %w", err)
	}
	return s, nil
}

// str returns the string at off, checking the offset.
func (s *Spec) str(off uint32) (string, bool) {
	if off < s.strBase {
		if s.base == nil {
			return "", false
		}
		return s.base.str(off)
	}
	o := int(off - s.strBase)
	if o >= len(s.strs) {
		return "", false
	}
	end := strings.IndexByte(s.strs[o:], 0)
	if end < 0 {
		return "", false
	}
	return s.strs[o : o+end], true
}

// countTypes returns how many types, members, values and variables the type
// section holds, so that each is allocated once.
func countTypes(b []byte) (types, members, values, vars int, err error) {
	bo := binary.LittleEndian
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			return 0, 0, 0, 0, errors.New("type truncated")
		}
		info := bo.Uint32(b[off+4:])
		kind := Kind((info >> 24) & 0x1f)
		vlen := int(info & 0xffff)
		extra, err := extraSize(kind, vlen)
		if err != nil {
			return 0, 0, 0, 0, fmt.Errorf("type [%d]: %w", types+1, err)
		}
		switch kind {
		case KindStruct, KindUnion, KindFuncProto:
			members += vlen
		case KindEnum, KindEnum64:
			values += vlen
		case KindDatasec:
			vars += vlen
		}
		off += 12
		if extra > len(b)-off {
			return 0, 0, 0, 0, fmt.Errorf("type [%d] truncated", types+1)
		}
		off += extra
		types++
		if types > maxTypes {
			return 0, 0, 0, 0, errors.New("too many types")
		}
	}
	return types, members, values, vars, nil
}

func extraSize(kind Kind, vlen int) (int, error) {
	switch kind {
	case KindInt, KindVar, KindDeclTag:
		return 4, nil
	case KindPtr, KindFwd, KindTypedef, KindVolatile, KindConst, KindRestrict,
		KindFunc, KindFloat, KindTypeTag:
		return 0, nil
	case KindArray:
		return 12, nil
	case KindStruct, KindUnion, KindDatasec, KindEnum64:
		return 12 * vlen, nil
	case KindEnum, KindFuncProto:
		return 8 * vlen, nil
	}
	return 0, fmt.Errorf("unknown kind %d", kind)
}

// parseTypes parses the type section, little-endian by now.
func (s *Spec) parseTypes(b []byte) error {
	bo := binary.LittleEndian
	n, nm, nv, nvars, err := countTypes(b)
	if err != nil {
		return err
	}
	if uint64(s.firstID)+uint64(n) > maxTypes+1 {
		return errors.New("too many types")
	}
	s.types = make([]Type, n)
	members := make([]Member, nm)
	values := make([]EnumValue, nv)
	vars := make([]SecVar, nvars)
	off := 0
	for i := range s.types {
		t := &s.types[i]
		id := s.firstID + TypeID(i)
		nameOff := bo.Uint32(b[off:])
		info := bo.Uint32(b[off+4:])
		sizeType := bo.Uint32(b[off+8:])
		off += 12
		t.Kind = Kind((info >> 24) & 0x1f)
		t.KFlag = info>>31 != 0
		t.Vlen = uint16(info)
		name, ok := s.str(nameOff)
		if !ok {
			return fmt.Errorf("type [%d]: name offset %d out of range", id, nameOff)
		}
		t.Name = name
		vlen := int(t.Vlen)
		switch t.Kind {
		case KindInt:
			v := bo.Uint32(b[off:])
			off += 4
			t.Size = sizeType
			t.IntEncoding = uint8(v >> 24 & 0x0f)
			t.IntOffset = uint8(v >> 16)
			t.IntBits = uint8(v)
		case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag:
			t.Type = TypeID(sizeType)
		case KindFwd:
		case KindFloat:
			t.Size = sizeType
		case KindFunc:
			t.Type = TypeID(sizeType)
			t.Linkage = uint32(t.Vlen)
			t.Vlen = 0
		case KindArray:
			t.Type = TypeID(bo.Uint32(b[off:]))
			t.Index = TypeID(bo.Uint32(b[off+4:]))
			t.Nelems = bo.Uint32(b[off+8:])
			off += 12
		case KindStruct, KindUnion:
			t.Size = sizeType
			t.Members = members[:vlen:vlen]
			members = members[vlen:]
			for j := range t.Members {
				m := &t.Members[j]
				if m.Name, ok = s.str(bo.Uint32(b[off:])); !ok {
					return fmt.Errorf("type [%d]: member %d: name out of range", id, j)
				}
				m.Type = TypeID(bo.Uint32(b[off+4:]))
				m.Offset = bo.Uint32(b[off+8:])
				off += 12
			}
		case KindFuncProto:
			t.Type = TypeID(sizeType)
			t.Members = members[:vlen:vlen]
			members = members[vlen:]
			for j := range t.Members {
				m := &t.Members[j]
				if m.Name, ok = s.str(bo.Uint32(b[off:])); !ok {
					return fmt.Errorf("type [%d]: parameter %d: name out of range", id, j)
				}
				m.Type = TypeID(bo.Uint32(b[off+4:]))
				off += 8
			}
		case KindEnum, KindEnum64:
			t.Size = sizeType
			t.Values = values[:vlen:vlen]
			values = values[vlen:]
			for j := range t.Values {
				v := &t.Values[j]
				if v.Name, ok = s.str(bo.Uint32(b[off:])); !ok {
					return fmt.Errorf("type [%d]: value %d: name out of range", id, j)
				}
				if t.Kind == KindEnum {
					lo := bo.Uint32(b[off+4:])
					if t.KFlag {
						v.Val = uint64(int64(int32(lo)))
					} else {
						v.Val = uint64(lo)
					}
					off += 8
				} else {
					v.Val = uint64(bo.Uint32(b[off+4:])) | uint64(bo.Uint32(b[off+8:]))<<32
					off += 12
				}
			}
		case KindVar:
			t.Type = TypeID(sizeType)
			t.Linkage = bo.Uint32(b[off:])
			off += 4
		case KindDatasec:
			t.Size = sizeType
			t.Vars = vars[:vlen:vlen]
			vars = vars[vlen:]
			for j := range t.Vars {
				v := &t.Vars[j]
				v.Type = TypeID(bo.Uint32(b[off:]))
				v.Offset = bo.Uint32(b[off+4:])
				v.Size = bo.Uint32(b[off+8:])
				off += 12
			}
		case KindDeclTag:
			t.Type = TypeID(sizeType)
			t.ComponentIdx = int32(bo.Uint32(b[off:]))
			off += 4
		}
	}
	return nil
}

// check verifies that every type reference names an existing type.
func (s *Spec) check() error {
	end := s.End()
	bad := func(id TypeID, ref TypeID, what string) error {
		return fmt.Errorf("type [%d]: %s references type %d, which does not exist", id, what, ref)
	}
	for i := range s.types {
		t := &s.types[i]
		id := s.firstID + TypeID(i)
		switch t.Kind {
		case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag,
			KindFunc, KindFuncProto, KindVar, KindDeclTag, KindArray:
			if t.Type >= end {
				return bad(id, t.Type, "it")
			}
		}
		switch t.Kind {
		case KindArray:
			if t.Index >= end {
				return bad(id, t.Index, "its index")
			}
		case KindStruct, KindUnion, KindFuncProto:
			for j := range t.Members {
				if t.Members[j].Type >= end {
					return bad(id, t.Members[j].Type, fmt.Sprintf("member %d", j))
				}
			}
		case KindDatasec:
			for j := range t.Vars {
				if t.Vars[j].Type >= end {
					return bad(id, t.Vars[j].Type, fmt.Sprintf("variable %d", j))
				}
			}
		}
	}
	return nil
}

// ParseFile reads raw BTF from path, such as /sys/kernel/btf/vmlinux or a
// module's /sys/kernel/btf/<module> (split BTF: give vmlinux as base). The
// BTF of an object file is its .BTF section: objects/elfobj reads that.
// The file is read through infile: never a FIFO, device or directory, at
// most 128 MiB, and only once its first bytes are BTF's magic.
func ParseFile(path string, base *Spec) (*Spec, error) {
	data, err := infile.Read(path, infile.Limits{What: "BTF", Header: headerSize, Check: func(head []byte) error {
		if len(head) < 2 || magicOrder(head) == nil {
			return fmt.Errorf("parse BTF: %w: bad magic", ErrNotBTF)
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return Parse(data, base)
}
