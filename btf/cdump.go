package btf

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The C dumper turns BTF into a header that compiles, as
// `bpftool btf dump ... format c` does for vmlinux.h.
//
// C needs a type declared before it is used, and defined (complete) before
// it is used by value: as a member, as an array element, or as the target
// of a typedef that is itself used by value. Uses through a pointer, and
// parameters and return types of function prototypes, need only a
// declaration, which for a named struct or union can be a forward
// declaration (`struct foo;`). The dumper therefore works in two passes.
//
// The ordering pass walks the type graph depth-first and appends each type
// that needs a top-level declaration (named structs, unions and enums,
// typedefs, forward declarations, and anonymous types that nothing refers
// to) to a queue after everything it needs complete. A walk carries
// whether the current edge only needs a declaration ("weak", through a
// pointer): a named struct reached weakly is not descended into, which is
// what breaks the cycles of self-referential types. Anonymous structs,
// unions and enums are printed inline where they are used, so their
// members are always walked as strong edges. A typedef needed by value is
// queued after its target; one needed only by name is queued as soon as
// its declaration is possible, except that a typedef of a named struct is
// left to the emission pass, which prints it (after a forward declaration)
// before the first definition that mentions it.
//
// The emission pass prints the queue in order. Before each definition it
// prints forward declarations of the named structs and unions the
// definition mentions that are not declared yet. Names that several
// distinct types share get a ___N suffix in order of first use, for
// struct/union/enum tags and, separately, for ordinary identifiers
// (typedef names and enumerators).

// WriteC writes a vmlinux.h-style C header with the types roots and all
// they depend on, or every type when roots is empty. FUNC, VAR, DATASEC
// and DECL_TAG types are not printed.
func WriteC(w io.Writer, s *Spec, roots []TypeID) error {
	d := newCDumper(s)
	if len(roots) == 0 {
		for id := TypeID(1); id < s.End(); id++ {
			if err := d.order(id, false); err != nil {
				return err
			}
		}
	} else {
		for _, id := range roots {
			if s.Type(id) == nil {
				return fmt.Errorf("dump C: no type with ID %d", id)
			}
			if err := d.order(id, false); err != nil {
				return err
			}
		}
	}
	d.w = w
	d.out = append(d.out, cHeaderStart...)
	for _, id := range d.queue {
		d.emit(id)
		if d.budget < 0 {
			return errTooLarge
		}
		if len(d.out) > 128<<10 {
			if err := d.flush(); err != nil {
				return err
			}
		}
	}
	d.out = append(d.out, cHeaderEnd...)
	return d.flush()
}

const cHeaderStart = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

`

const cHeaderEnd = `#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
`

// Per-type ordering flags.
const (
	fReferenced = 1 << iota // some other type refers to it
	fQueued                 // appended to the emission queue
	fBusy                   // being walked (cycle detection)
	fDone                   // walked strongly
	fDeclBusy               // typedef: its declaration is being walked
	fDeclDone               // typedef: its declaration was walked
	fEmitted                // typedef: printed
)

type cDumper struct {
	s     *Spec
	flags []uint8
	queue []TypeID

	// Emission state.
	w           io.Writer
	err         error
	out         []byte
	names       []string        // resolved C names, by type ID
	tagUse      map[string]int  // struct/union/enum tags handed out
	identUse    map[string]int  // typedef names and enumerators handed out
	declared    map[string]bool // struct/union tags declared or defined
	layout      []layoutInfo
	visit       []uint32 // generation stamps for the forward declaration walk
	gen         uint32
	enumerators map[*Type][]string
	// budget is how many more member and padding lines may be printed.
	budget int
}

func newCDumper(s *Spec) *cDumper {
	n := int(s.End())
	d := &cDumper{
		s:           s,
		flags:       make([]uint8, n),
		names:       make([]string, n),
		tagUse:      make(map[string]int),
		identUse:    make(map[string]int),
		declared:    make(map[string]bool),
		layout:      make([]layoutInfo, n),
		visit:       make([]uint32, n),
		enumerators: make(map[*Type][]string),
	}
	d.markReferenced()
	d.budget = 1 << 20
	for i := range s.types {
		d.budget += 8 * (1 + len(s.types[i].Members) + len(s.types[i].Values))
	}
	return d
}

// markReferenced flags every type that another type refers to: such
// anonymous types are printed inline where used, the others at top level.
func (d *cDumper) markReferenced() {
	mark := func(id TypeID) { d.flags[id] |= fReferenced }
	for id := TypeID(1); id < d.s.End(); id++ {
		t := d.s.Type(id)
		switch t.Kind {
		case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag,
			KindFunc, KindVar, KindDeclTag, KindArray:
			mark(t.Type)
		case KindFuncProto:
			mark(t.Type)
			for i := range t.Members {
				mark(t.Members[i].Type)
			}
		case KindStruct, KindUnion:
			for i := range t.Members {
				mark(t.Members[i].Type)
			}
		case KindDatasec:
			for i := range t.Vars {
				mark(t.Vars[i].Type)
			}
		}
	}
}

// errCycle is returned for BTF whose types cannot be ordered for C, such
// as a struct that contains itself by value; only hostile BTF has it.
var errCycle = errors.New("type cycle that C cannot express")

// errTooLarge is returned when the header would be far larger than the
// BTF, which only hostile BTF causes: anonymous types nested so that
// inlining them multiplies, or enormous holes in structs.
var errTooLarge = errors.New("dump C: the header would be unreasonably large")

func (d *cDumper) push(id TypeID) {
	if d.flags[id]&fQueued == 0 {
		d.flags[id] |= fQueued
		d.queue = append(d.queue, id)
	}
}

// order queues what id needs and then id itself. weak says the use only
// needs a declaration.
func (d *cDumper) order(id TypeID, weak bool) error {
	t := d.s.Type(id)
	f := &d.flags[id]
	switch t.Kind {
	case KindPtr, KindConst, KindVolatile, KindRestrict, KindTypeTag, KindArray:
		if *f&fBusy != 0 {
			return fmt.Errorf("dump C: type [%d] %s: %w", id, t.Kind, errCycle)
		}
		*f |= fBusy
		var err error
		switch t.Kind {
		case KindPtr:
			err = d.order(t.Type, true)
		case KindArray:
			// An array's element must be complete, even behind a pointer.
			err = d.order(t.Type, false)
		default:
			err = d.order(t.Type, weak)
		}
		*f &^= fBusy
		return err
	case KindFuncProto:
		if *f&fDone != 0 {
			return nil
		}
		if *f&fBusy != 0 {
			return fmt.Errorf("dump C: type [%d]: %w", id, errCycle)
		}
		*f |= fBusy
		err := d.order(t.Type, true)
		for i := 0; err == nil && i < len(t.Members); i++ {
			err = d.order(t.Members[i].Type, true)
		}
		*f = *f&^fBusy | fDone
		return err
	case KindStruct, KindUnion:
		if t.Name != "" && weak {
			return nil
		}
		if *f&fDone != 0 {
			return nil
		}
		if *f&fBusy != 0 {
			return fmt.Errorf("dump C: type [%d] %s '%s': %w", id, t.Kind, t.Name, errCycle)
		}
		*f |= fBusy
		for i := range t.Members {
			if err := d.order(t.Members[i].Type, false); err != nil {
				return err
			}
		}
		*f = *f&^fBusy | fDone
		// An anonymous struct or union is printed where it is used; one
		// that nothing uses would declare nothing.
		if t.Name != "" {
			d.push(id)
		}
		return nil
	case KindEnum, KindEnum64:
		if t.Name != "" || *f&fReferenced == 0 {
			d.push(id)
		}
		return nil
	case KindFwd:
		if t.Name != "" {
			d.push(id)
		}
		return nil
	case KindTypedef:
		if t.Name == "__builtin_va_list" {
			return nil // the compiler's own
		}
		if weak {
			// Only its declaration is needed: what its target needs
			// when only named. A typedef of a named struct is not
			// queued: the emission pass prints it before the first
			// definition that mentions it, unless a use by value
			// queues it first, after the struct.
			if *f&(fQueued|fDeclDone) != 0 {
				return nil
			}
			if *f&fDeclBusy != 0 {
				return fmt.Errorf("dump C: typedef [%d] '%s': %w", id, t.Name, errCycle)
			}
			*f |= fDeclBusy
			err := d.order(t.Type, true)
			*f = *f&^fDeclBusy | fDeclDone
			if !d.namesTag(t.Type) {
				d.push(id)
			}
			return err
		}
		if *f&fDone != 0 {
			return nil
		}
		if *f&fBusy != 0 {
			return fmt.Errorf("dump C: typedef [%d] '%s': %w", id, t.Name, errCycle)
		}
		*f |= fBusy
		err := d.order(t.Type, false)
		*f = *f&^fBusy | fDone
		d.push(id)
		return err
	}
	// void, INT, FLOAT need nothing; FUNC, VAR, DATASEC and DECL_TAG
	// are not printed.
	return nil
}

func (d *cDumper) flush() error {
	if d.err == nil && len(d.out) > 0 {
		_, d.err = d.w.Write(d.out)
	}
	d.out = d.out[:0]
	return d.err
}

// emit prints the top-level declaration of the queued type id.
func (d *cDumper) emit(id TypeID) {
	t := d.s.Type(id)
	switch t.Kind {
	case KindStruct, KindUnion:
		d.forwardDeclare(id)
		d.out = d.appendComposite(d.out, id, 0)
		d.out = append(d.out, ";\n\n"...)
		if t.Name != "" {
			d.declared[d.tagName(id)] = true
		}
	case KindEnum, KindEnum64:
		d.out = d.appendEnum(d.out, id, 0)
		d.out = append(d.out, ";\n\n"...)
	case KindFwd:
		name := d.tagName(id)
		if !d.declared[name] {
			d.declared[name] = true
			d.out = append(d.out, fwdKeyword(t)...)
			d.out = append(d.out, ' ')
			d.out = append(d.out, name...)
			d.out = append(d.out, ";\n\n"...)
		}
	case KindTypedef:
		if d.flags[id]&fEmitted == 0 {
			d.gen++
			d.emitTypedef(id)
		}
	}
}

// namesTag reports whether id is, up to qualifiers, a named struct, union
// or forward declaration: a typedef of it can be declared at any point.
func (d *cDumper) namesTag(id TypeID) bool {
	for range 64 {
		t := d.s.Type(id)
		switch t.Kind {
		case KindConst, KindVolatile, KindRestrict, KindTypeTag:
			id = t.Type
			continue
		case KindStruct, KindUnion, KindFwd:
			return t.Name != ""
		}
		return false
	}
	return false
}

// emitTypedef prints a typedef after what its declaration needs, within
// the current forward declaration walk.
func (d *cDumper) emitTypedef(id TypeID) {
	d.flags[id] |= fEmitted
	t := d.s.Type(id)
	d.fwdWalk(t.Type)
	d.out = append(d.out, "typedef "...)
	d.out = d.appendDecl(d.out, t.Type, d.identName(id), 0)
	d.out = append(d.out, ";\n\n"...)
}

func fwdKeyword(t *Type) string {
	if t.KFlag {
		return "union"
	}
	return "struct"
}

func compositeKeyword(t *Type) string {
	if t.Kind == KindUnion {
		return "union"
	}
	return "struct"
}

// forwardDeclare prints `struct foo;` for every named struct or union
// that the definition of id mentions and that is not yet declared.
func (d *cDumper) forwardDeclare(id TypeID) {
	d.gen++
	t := d.s.Type(id)
	switch t.Kind {
	case KindStruct, KindUnion:
		d.visit[id] = d.gen
		for i := range t.Members {
			d.fwdWalk(t.Members[i].Type)
		}
	}
}

func (d *cDumper) fwdWalk(id TypeID) {
	for {
		if d.visit[id] == d.gen {
			return
		}
		d.visit[id] = d.gen
		t := d.s.Type(id)
		switch t.Kind {
		case KindPtr, KindConst, KindVolatile, KindRestrict, KindTypeTag, KindArray:
			id = t.Type
			continue
		case KindFuncProto:
			d.fwdWalk(t.Type)
			for i := range t.Members {
				d.fwdWalk(t.Members[i].Type)
			}
		case KindTypedef:
			// A typedef so far used only through pointers is printed
			// where it is first needed.
			if d.flags[id]&fEmitted == 0 && t.Name != "__builtin_va_list" {
				d.emitTypedef(id)
			}
		case KindStruct, KindUnion, KindFwd:
			if t.Name == "" {
				for i := range t.Members {
					d.fwdWalk(t.Members[i].Type)
				}
				return
			}
			name := d.tagName(id)
			if !d.declared[name] {
				d.declared[name] = true
				kw := compositeKeyword(t)
				if t.Kind == KindFwd {
					kw = fwdKeyword(t)
				}
				d.out = append(d.out, kw...)
				d.out = append(d.out, ' ')
				d.out = append(d.out, name...)
				d.out = append(d.out, ";\n\n"...)
			}
		}
		return
	}
}

// tagName is the C tag of a named struct, union, enum or forward
// declaration: its name, with ___N when an earlier distinct type took it.
// A forward declaration shares the tag of the struct it stands for.
func (d *cDumper) tagName(id TypeID) string {
	if n := d.names[id]; n != "" {
		return n
	}
	t := d.s.Type(id)
	name := t.Name
	if t.Kind != KindFwd {
		name = uniqueName(d.tagUse, t.Name)
	}
	d.names[id] = name
	return name
}

// identName is the name of a typedef, made unique the same way.
func (d *cDumper) identName(id TypeID) string {
	if n := d.names[id]; n != "" {
		return n
	}
	n := uniqueName(d.identUse, d.s.Type(id).Name)
	d.names[id] = n
	return n
}

func uniqueName(used map[string]int, name string) string {
	n := used[name] + 1
	used[name] = n
	if n == 1 {
		return name
	}
	return name + "___" + strconv.Itoa(n)
}

func appendIndent(b []byte, level int) []byte {
	for i := 0; i < level; i++ {
		b = append(b, '\t')
	}
	return b
}

// appendComposite appends a struct or union definition, without the
// trailing semicolon: `struct name {` members `}` and the packed
// attribute if its layout needs it.
func (d *cDumper) appendComposite(b []byte, id TypeID, level int) []byte {
	t := d.s.Type(id)
	b = append(b, compositeKeyword(t)...)
	if t.Name != "" {
		b = append(b, ' ')
		b = append(b, d.tagName(id)...)
	}
	if len(t.Members) == 0 && t.Size == 0 {
		return append(b, " {}"...)
	}
	b = append(b, " {\n"...)
	packed := d.isPacked(id)
	var cur uint64 // bits laid out so far
	for i := range t.Members {
		if d.budget--; d.budget < 0 {
			break
		}
		m := &t.Members[i]
		off := uint64(t.BitOffset(m))
		bits := uint64(t.BitfieldSize(m))
		if bits == 0 {
			bits, off = d.intBitfield(m.Type, off)
		}
		if t.Kind == KindStruct {
			if bits == 0 {
				align := uint64(8)
				if !packed {
					align = uint64(d.alignOf(m.Type)) * 8
				}
				if off > cur {
					b = d.appendPadding(b, cur, off, level+1, packed, func(c uint64) uint64 { return roundUp(c, align) })
				}
				cur = max(cur, off+uint64(d.sizeOf(m.Type))*8)
			} else {
				unit := uint64(d.sizeOf(m.Type)) * 8
				place := func(c uint64) uint64 {
					if !packed && unit > 0 && c%unit+bits > unit {
						return roundUp(c, unit)
					}
					return c
				}
				if off > cur {
					b = d.appendPadding(b, cur, off, level+1, packed, place)
				}
				cur = max(cur, off+bits)
			}
		}
		b = appendIndent(b, level+1)
		b = d.appendDecl(b, m.Type, m.Name, level+1)
		if bits != 0 {
			b = append(b, ": "...)
			b = strconv.AppendUint(b, bits, 10)
		}
		b = append(b, ";\n"...)
	}
	if t.Kind == KindStruct {
		end := uint64(t.Size) * 8
		align := uint64(8)
		if !packed {
			align = uint64(d.alignOf(id)) * 8
		}
		if end > cur {
			b = d.appendPadding(b, cur, end, level+1, packed, func(c uint64) uint64 { return roundUp(c, align) })
		}
	}
	b = appendIndent(b, level)
	b = append(b, '}')
	if packed {
		b = append(b, " __attribute__((packed))"...)
	}
	return b
}

// appendEnum appends an enum definition without the trailing semicolon.
func (d *cDumper) appendEnum(b []byte, id TypeID, level int) []byte {
	t := d.s.Type(id)
	b = append(b, "enum"...)
	if t.Name != "" {
		b = append(b, ' ')
		b = append(b, d.tagName(id)...)
	}
	if len(t.Values) == 0 {
		// C has no empty enums; an opaque one is a forward declaration.
		return b
	}
	b = append(b, " {\n"...)
	names := d.enumeratorNames(t)
	for i := range t.Values {
		v := &t.Values[i]
		b = appendIndent(b, level+1)
		b = append(b, names[i]...)
		b = append(b, " = "...)
		switch {
		case t.Kind == KindEnum && t.KFlag:
			b = strconv.AppendInt(b, int64(int32(v.Val)), 10)
		case t.Kind == KindEnum:
			b = strconv.AppendUint(b, v.Val&0xffffffff, 10)
		case t.KFlag:
			b = strconv.AppendInt(b, int64(v.Val), 10)
			b = append(b, "LL"...)
		default:
			b = strconv.AppendUint(b, v.Val, 10)
			b = append(b, "ULL"...)
		}
		b = append(b, ",\n"...)
	}
	b = appendIndent(b, level)
	b = append(b, '}')
	if t.Size < 4 && enumFitsIn(t) == t.Size {
		b = append(b, " __attribute__((packed))"...)
	}
	return b
}

// enumeratorNames returns the enumerators' unique names; they live in the
// same namespace as typedef names.
func (d *cDumper) enumeratorNames(t *Type) []string {
	if names, ok := d.enumerators[t]; ok {
		return names
	}
	names := make([]string, len(t.Values))
	for i := range t.Values {
		names[i] = uniqueName(d.identUse, t.Values[i].Name)
	}
	d.enumerators[t] = names
	return names
}

// enumFitsIn is the size a packed enum with t's values gets: 1, 2 or 4.
func enumFitsIn(t *Type) uint32 {
	size := uint32(1)
	for i := range t.Values {
		v := t.Values[i].Val
		var need uint32 = 4
		if t.KFlag {
			s := int64(int32(v))
			switch {
			case s >= -128 && s <= 127:
				need = 1
			case s >= -32768 && s <= 32767:
				need = 2
			}
		} else {
			u := v & 0xffffffff
			switch {
			case u <= 0xff:
				need = 1
			case u <= 0xffff:
				need = 2
			}
		}
		size = max(size, need)
	}
	return size
}

// appendDecl appends the declaration of name (which may be empty) with
// type id: the type specifier and the declarator around the name.
func (d *cDumper) appendDecl(b []byte, id TypeID, name string, level int) []byte {
	// Walk the declarator chain from the declared object inwards, building
	// the declarator text around the name, until the base type.
	decl := name
	var quals []string // qualifiers of the base type, outermost first
	for {
		t := d.s.Type(id)
		switch t.Kind {
		case KindPtr:
			if decl != "" && (decl[0] == '(' || isQualified(decl)) {
				decl = "* " + decl // bpftool's spacing: `* const p`, `* (*f)(void)`
			} else {
				decl = "*" + decl
			}
			id = t.Type
			continue
		case KindConst, KindVolatile, KindRestrict, KindTypeTag:
			q := qualifier(t)
			if d.s.Type(t.Type).Kind == KindPtr {
				// A qualified pointer: `int *const p`.
				if decl == "" {
					decl = q
				} else {
					decl = q + " " + decl
				}
			} else if !slices.Contains(quals, q) {
				quals = append(quals, q)
			}
			id = t.Type
			continue
		case KindArray:
			if len(decl) > 0 && decl[0] == '*' {
				decl = "(" + decl + ")"
			}
			decl = decl + "[" + strconv.FormatUint(uint64(t.Nelems), 10) + "]"
			id = t.Type
			continue
		case KindFuncProto:
			if len(decl) > 0 && decl[0] == '*' {
				decl = "(" + decl + ")"
			}
			decl = decl + string(d.appendParams(nil, t, level))
			id = t.Type
			continue
		}
		break
	}
	var tags []string
	for i := len(quals) - 1; i >= 0; i-- {
		if strings.HasPrefix(quals[i], "__attribute__") {
			tags = append(tags, quals[i])
			continue
		}
		b = append(b, quals[i]...)
		b = append(b, ' ')
	}
	b = d.appendBase(b, id, level)
	for _, tag := range tags {
		b = append(b, ' ')
		b = append(b, tag...)
	}
	if decl != "" {
		b = append(b, ' ')
		b = append(b, decl...)
	}
	return b
}

// qualifier is the C text of a CONST, VOLATILE, RESTRICT or TYPE_TAG.
func qualifier(t *Type) string {
	switch t.Kind {
	case KindConst:
		return "const"
	case KindVolatile:
		return "volatile"
	case KindTypeTag:
		return `__attribute__((btf_type_tag("` + t.Name + `")))`
	}
	return "restrict"
}

// isQualified reports whether a declarator starts with a qualifier.
func isQualified(decl string) bool {
	for _, q := range [...]string{"const", "volatile", "restrict", "__attribute__"} {
		if strings.HasPrefix(decl, q) && (len(decl) == len(q) || decl[len(q)] == ' ' || decl[len(q)] == '(') {
			return true
		}
	}
	return false
}

// appendParams appends a prototype's parameter list in parentheses.
func (d *cDumper) appendParams(b []byte, t *Type, level int) []byte {
	b = append(b, '(')
	if len(t.Members) == 0 {
		return append(b, "void)"...)
	}
	for i := range t.Members {
		p := &t.Members[i]
		if i > 0 {
			b = append(b, ", "...)
		}
		if p.Type == 0 && i == len(t.Members)-1 {
			b = append(b, "..."...)
			break
		}
		b = d.appendDecl(b, p.Type, p.Name, level)
	}
	return append(b, ')')
}

// appendBase appends a base type specifier: a name, or the full
// definition of an anonymous struct, union or enum.
func (d *cDumper) appendBase(b []byte, id TypeID, level int) []byte {
	t := d.s.Type(id)
	switch t.Kind {
	case KindUnknown:
		return append(b, "void"...)
	case KindInt, KindFloat:
		return append(b, t.Name...)
	case KindStruct, KindUnion:
		if t.Name == "" {
			return d.appendComposite(b, id, level)
		}
		b = append(b, compositeKeyword(t)...)
		b = append(b, ' ')
		return append(b, d.tagName(id)...)
	case KindEnum, KindEnum64:
		if t.Name == "" {
			return d.appendEnum(b, id, level)
		}
		b = append(b, "enum "...)
		return append(b, d.tagName(id)...)
	case KindFwd:
		b = append(b, fwdKeyword(t)...)
		b = append(b, ' ')
		return append(b, d.tagName(id)...)
	case KindTypedef:
		return append(b, d.identName(id)...)
	}
	// FUNC, VAR, DATASEC, DECL_TAG cannot be a C type; say so in a way
	// the compiler reports.
	return append(b, "void /* "+t.Kind.String()+" */"...)
}
