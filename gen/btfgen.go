package gen

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// MinCoreBTF returns the part of the BTF at input (a kernel's vmlinux BTF)
// that the CO-RE relocations of the objects need, as raw BTF: bpftool's
// BTFgen. For each relocation it finds the target type the loader would
// relocate against (the first candidate, in type ID order, with the same
// name less any ___flavor suffix that matches the access), and keeps:
//   - for field relocations, the root type, each struct or union on the
//     access path with only the members used, and the types of those
//     members (pointers are kept, not what they point to);
//   - for type relocations (exists, size, target ID), the type and what
//     it is built from, structs and unions without members;
//   - for enumerator relocations, the whole enum;
//   - for type-match relocations, the type with all its members, deeply.
//
// Types come out in the input's order, strings in the order they are
// first used, as libbpf writes them, so that the output is bpftool's byte
// for byte.
func MinCoreBTF(input string, objects []string) ([]byte, error) {
	data, err := os.ReadFile(input)
	if err != nil {
		return nil, err
	}
	target, err := btf.Parse(data, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	m := &marks{target: target, types: map[btf.TypeID]bool{}, members: map[btf.TypeID]map[int]bool{}}
	for _, path := range objects {
		if err := m.recordObject(path); err != nil {
			return nil, err
		}
	}
	return m.encode()
}

// marks are the target types and members kept.
type marks struct {
	target  *btf.Spec
	types   map[btf.TypeID]bool
	members map[btf.TypeID]map[int]bool
}

func (m *marks) recordObject(path string) error {
	f, err := elfobj.Open(path)
	if err != nil {
		return err
	}
	rawBTF, ok := f.SectionData(".BTF")
	if !ok {
		return fmt.Errorf("failed to parse BPF object '%s': section .BTF not found", path)
	}
	ext, ok := f.SectionData(".BTF.ext")
	if !ok {
		return fmt.Errorf("failed to parse BPF object '%s': section .BTF.ext not found", path)
	}
	local, err := btf.Parse(rawBTF, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	relos, err := btf.CoreRelos(ext, local)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	cands := map[btf.TypeID][]btf.TypeID{}
	for _, r := range relos {
		if r.Kind == btf.CoreTypeIDLocal {
			continue // needs nothing of the kernel's BTF
		}
		if _, ok := cands[r.TypeID]; !ok {
			cands[r.TypeID] = m.candidates(local, r.TypeID)
		}
		if err := m.recordRelo(local, r, cands[r.TypeID]); err != nil {
			return fmt.Errorf("%s: relocation at %s+%d: %w", path, r.Section, r.InsnOff, err)
		}
	}
	return nil
}

// essential strips a ___flavor suffix: task_struct___old is task_struct.
func essential(name string) string {
	if i := strings.Index(name, "___"); i > 0 {
		return name[:i]
	}
	return name
}

// candidates are the target types a local type may be: the same name, less
// flavors, and the same kind (enums of either width).
func (m *marks) candidates(local *btf.Spec, id btf.TypeID) []btf.TypeID {
	lt := local.Type(id)
	if lt == nil || lt.Name == "" {
		return nil
	}
	name := essential(lt.Name)
	var ids []btf.TypeID
	for tid := m.target.FirstID(); tid < m.target.End(); tid++ {
		t := m.target.Type(tid)
		if t.Name == "" || essential(t.Name) != name || !kindsCompatible(lt.Kind, t.Kind) {
			continue
		}
		ids = append(ids, tid)
	}
	return ids
}

func kindsCompatible(a, b btf.Kind) bool {
	enum := func(k btf.Kind) bool { return k == btf.KindEnum || k == btf.KindEnum64 }
	return a == b || (enum(a) && enum(b))
}

// skipMods follows typedefs and qualifiers to the type they name.
func skipMods(s *btf.Spec, id btf.TypeID) (btf.TypeID, *btf.Type) {
	for {
		t := s.Type(id)
		if t == nil {
			return id, nil
		}
		switch t.Kind {
		case btf.KindTypedef, btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindTypeTag:
			id = t.Type
		default:
			return id, t
		}
	}
}

func (m *marks) recordRelo(local *btf.Spec, r btf.CoreRelo, cands []btf.TypeID) error {
	raw, err := parseAccess(r.Access)
	if err != nil {
		return err
	}
	switch r.Kind {
	case btf.CoreFieldByteOffset, btf.CoreFieldByteSize, btf.CoreFieldExists,
		btf.CoreFieldSigned, btf.CoreFieldLShiftU64, btf.CoreFieldRShiftU64:
		for _, c := range cands {
			if path, ok := m.matchField(local, r.TypeID, raw, c); ok {
				return m.markField(c, path)
			}
		}
	case btf.CoreTypeIDTarget, btf.CoreTypeExists, btf.CoreTypeSize:
		if len(cands) > 0 {
			return m.markType(cands[0], true)
		}
	case btf.CoreTypeMatches:
		if len(cands) > 0 {
			return m.markTypeMatch(cands[0], false)
		}
	case btf.CoreEnumvalExists, btf.CoreEnumvalValue:
		lt := local.Type(r.TypeID)
		if len(raw) != 1 || lt == nil || raw[0] >= len(lt.Values) {
			return fmt.Errorf("bad enumerator access %q", r.Access)
		}
		want := essential(lt.Values[raw[0]].Name)
		for _, c := range cands {
			for _, v := range m.target.Type(c).Values {
				if v.Name != "" && essential(v.Name) == want {
					return m.markType(c, false)
				}
			}
		}
	default:
		return fmt.Errorf("unknown relocation kind %d", r.Kind)
	}
	return nil
}

func parseAccess(s string) ([]int, error) {
	var raw []int
	for _, f := range strings.Split(s, ":") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad accessor %q", s)
		}
		raw = append(raw, n)
	}
	return raw, nil
}

// matchField follows a field access through local types and finds the same
// named members (and array elements) in target type c, looking inside the
// target's anonymous structs and unions as the loader does. It returns the
// target's raw access path.
func (m *marks) matchField(local *btf.Spec, root btf.TypeID, raw []int, c btf.TypeID) ([]int, bool) {
	path := []int{raw[0]}
	lid := root
	tid := c
	for _, idx := range raw[1:] {
		var lt, tt *btf.Type
		lid, lt = skipMods(local, lid)
		if lt == nil {
			return nil, false
		}
		switch lt.Kind {
		case btf.KindStruct, btf.KindUnion:
			if idx >= len(lt.Members) {
				return nil, false
			}
			lm := lt.Members[idx]
			lid = lm.Type
			if lm.Name == "" {
				// An anonymous local member is not an access of its own:
				// its named members are matched by name.
				continue
			}
			var sub []int
			var ok bool
			if tid, sub, ok = m.matchMember(tid, lm.Name); !ok {
				return nil, false
			}
			path = append(path, sub...)
		case btf.KindArray:
			tid, tt = skipMods(m.target, tid)
			if tt == nil || tt.Kind != btf.KindArray {
				return nil, false
			}
			if uint32(idx) >= tt.Nelems && tt.Nelems != 0 {
				return nil, false
			}
			lid, tid = lt.Type, tt.Type
			path = append(path, idx)
		default:
			return nil, false
		}
	}
	return path, true
}

// matchMember finds the member called name in target type id, or in its
// anonymous members, and returns its type and the member indexes that lead
// to it.
func (m *marks) matchMember(id btf.TypeID, name string) (btf.TypeID, []int, bool) {
	_, t := skipMods(m.target, id)
	if t == nil || (t.Kind != btf.KindStruct && t.Kind != btf.KindUnion) {
		return 0, nil, false
	}
	for i, mem := range t.Members {
		if mem.Name == "" {
			if _, mt := skipMods(m.target, mem.Type); mt != nil && (mt.Kind == btf.KindStruct || mt.Kind == btf.KindUnion) {
				if typ, sub, ok := m.matchMember(mem.Type, name); ok {
					return typ, append([]int{i}, sub...), true
				}
			}
			continue
		}
		if mem.Name == name {
			return mem.Type, []int{i}, true
		}
	}
	return 0, nil, false
}

// markField keeps the root type, and along the access path each member
// used and its type.
func (m *marks) markField(root btf.TypeID, path []int) error {
	if err := m.markType(root, false); err != nil {
		return err
	}
	id := root
	for _, idx := range path[1:] {
		var t *btf.Type
		id, t = skipMods(m.target, id)
		switch t.Kind {
		case btf.KindStruct, btf.KindUnion:
			if m.members[id] == nil {
				m.members[id] = map[int]bool{}
			}
			m.members[id][idx] = true
			id = t.Members[idx].Type
			if err := m.markType(id, false); err != nil {
				return err
			}
		case btf.KindArray:
			id = t.Type
		default:
			return fmt.Errorf("unsupported kind: %s (%d)", t.Kind, id)
		}
	}
	return nil
}

// markType keeps a type and what it is made of; structs and unions keep
// no members of their own accord, pointers what they point to only when
// follow.
func (m *marks) markType(id btf.TypeID, follow bool) error {
	if id == 0 {
		return nil
	}
	t := m.target.Type(id)
	if t == nil {
		return fmt.Errorf("type %d out of range", id)
	}
	m.types[id] = true
	switch t.Kind {
	case btf.KindInt, btf.KindFloat, btf.KindEnum, btf.KindEnum64, btf.KindStruct, btf.KindUnion:
	case btf.KindPtr:
		if follow {
			return m.markType(t.Type, follow)
		}
	case btf.KindConst, btf.KindRestrict, btf.KindVolatile, btf.KindTypedef, btf.KindTypeTag:
		return m.markType(t.Type, follow)
	case btf.KindArray:
		if err := m.markType(t.Type, follow); err != nil {
			return err
		}
		return m.markType(t.Index, follow)
	case btf.KindFuncProto:
		if err := m.markType(t.Type, follow); err != nil {
			return err
		}
		for _, p := range t.Members {
			if err := m.markType(p.Type, follow); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported kind: %s (%d)", t.Kind, id)
	}
	return nil
}

// markTypeMatch keeps a type with all its members, and theirs; behind a
// pointer, a struct or union keeps no members.
func (m *marks) markTypeMatch(id btf.TypeID, behindPtr bool) error {
	if id == 0 {
		return nil
	}
	t := m.target.Type(id)
	if t == nil {
		return fmt.Errorf("type %d out of range", id)
	}
	m.types[id] = true
	switch t.Kind {
	case btf.KindStruct, btf.KindUnion:
		if behindPtr {
			return nil
		}
		for i, mem := range t.Members {
			if m.members[id] == nil {
				m.members[id] = map[int]bool{}
			}
			m.members[id][i] = true
			if err := m.markTypeMatch(mem.Type, false); err != nil {
				return err
			}
		}
	case btf.KindPtr:
		return m.markTypeMatch(t.Type, true)
	case btf.KindConst, btf.KindFwd, btf.KindRestrict, btf.KindVolatile, btf.KindTypedef, btf.KindTypeTag:
		return m.markTypeMatch(t.Type, behindPtr)
	case btf.KindArray:
		if err := m.markTypeMatch(t.Type, false); err != nil {
			return err
		}
		return m.markTypeMatch(t.Index, false)
	case btf.KindFuncProto:
		if err := m.markTypeMatch(t.Type, false); err != nil {
			return err
		}
		for _, p := range t.Members {
			if err := m.markTypeMatch(p.Type, false); err != nil {
				return err
			}
		}
	}
	return nil
}
