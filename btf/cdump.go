package btf

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The C dumper prints BTF as a C header that compiles, byte for byte as
// upstream bpftool v7.8.0 (libbpf v1.8's btf_dump) prints
// `btf dump ... format c`: vmlinux.h.
//
// It works type by type. For each root it first orders (order): a
// depth-first walk that queues every type needing a top-level
// declaration after what it needs complete. An edge through a pointer is
// weak: a named struct or union reached that way needs only a forward
// declaration, which is what breaks the cycles of self-referential types;
// anonymous structs and unions are printed inline where used, so their
// members are strong edges whatever the path. A typedef reached weakly is
// queued only if its target was strong. Types keep their order state
// across roots, so each is queued once.
//
// Then it emits the queue (emitType): before each struct definition it
// walks the members' types, printing forward declarations of the named
// structs and unions being defined (a cycle), and typedefs whose
// definition is under way but that a member needs by name. Names that
// distinct types share get ___N in the order they are first printed:
// struct, union and enum tags in one namespace, typedef names and
// enumerators in another.
//
// What bpftool adds around libbpf's dumper is here too: a preamble of
// macros, its sorted order (cdump_sort.go; `unsorted` keeps BTF order),
// and extern prototypes of the kernel's kfuncs. Declarations are written
// by cdump_decl.go, struct layouts and padding by cdump_layout.go.

// COptions says what WriteC prints.
type COptions struct {
	// Roots are the types to print, with what they need, in this order;
	// every type when empty.
	Roots []TypeID
	// Unsorted keeps BTF order for a whole dump instead of bpftool 7.8's
	// sorted order (`format c unsorted`).
	Unsorted bool
}

// WriteC writes the vmlinux.h-style C header of s to w. FUNC, VAR,
// DATASEC and DECL_TAG types are not printed as such; a whole dump ends
// with an extern prototype of every kfunc (a FUNC with a bpf_kfunc
// declaration tag).
func WriteC(w io.Writer, s *Spec, opts COptions) error {
	for _, id := range opts.Roots {
		if s.Type(id) == nil {
			return fmt.Errorf("dump C: no type with ID %d", id)
		}
	}
	d := newCDumper(s, w)
	d.str(cPreamble)
	if len(opts.Roots) > 0 {
		for _, id := range opts.Roots {
			if err := d.dumpType(id); err != nil {
				return err
			}
		}
	} else {
		ids, err := cOrder(s, !opts.Unsorted)
		if err != nil {
			return err
		}
		// bpftool 7.8 starts at index 1 of its order, which skips void
		// in BTF order, but in sorted order skips whatever sorts first
		// (void sorts among the last): that type is missing from its
		// header unless another type needs it, as the first anonymous
		// enum of vmlinux (ACOMP_WALK_*) is. bpfkit dumps it last, so
		// the header is bpftool's wherever bpftool's is complete.
		for _, id := range ids[1:] {
			if err := d.dumpType(id); err != nil {
				return err
			}
		}
		if err := d.dumpType(ids[0]); err != nil {
			return err
		}
		if err := d.kfuncs(); err != nil {
			return err
		}
	}
	d.str(cEpilogue)
	return d.flush()
}

const cPreamble = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif

#ifndef __weak
#define __weak __attribute__((weak))
#endif

#ifndef __bpf_fastcall
#if __has_attribute(bpf_fastcall)
#define __bpf_fastcall __attribute__((bpf_fastcall))
#else
#define __bpf_fastcall
#endif
#endif

`

const cEpilogue = `#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
`

// errCycle is returned for BTF whose types cannot be ordered for C, such
// as a struct that contains itself by value; only hostile BTF has it.
var errCycle = errors.New("type cycle that C cannot express")

// errTooLarge is returned when the header would be far larger than the
// BTF, which only hostile BTF causes: anonymous types nested so that
// inlining them multiplies, or enormous holes in structs.
var errTooLarge = errors.New("dump C: the header would be unreasonably large")

// Order and emission states of a type.
const (
	notOrdered = iota
	ordering
	ordered
)

const (
	notEmitted = iota
	emitting
	emitted
)

// cState is the dumper's per-type state.
type cState struct {
	order, emit  uint8
	fwdEmitted   bool // struct: forward declaration printed; typedef: printed during its own emission
	nameResolved bool
	referenced   bool  // another type refers to it
	busy         uint8 // on the ordering walk's path: 1 reached directly, 2 through a pointer
}

type cDumper struct {
	s     *Spec
	st    []cState
	names []string // a type's name with its ___N suffix, when it has one
	queue []TypeID
	decl  []TypeID // the shared stack of declaration chains (cdump_decl.go)
	// typeNames counts struct, union and enum tags handed out,
	// identNames typedef names and enumerators.
	typeNames, identNames map[string]int
	ptrSize               int64
	align                 []int32 // alignOf's results + 1, 0 when not computed

	w      io.Writer
	out    []byte
	err    error // the first write error, or a reason to stop
	budget int   // how many more member, padding and enumerator lines may be printed
	work   int   // how many more steps the walks may take
	depth  int   // emission recursion depth
}

func newCDumper(s *Spec, w io.Writer) *cDumper {
	n := int(s.End())
	d := &cDumper{
		s:       s,
		st:      make([]cState, n),
		names:   make([]string, n),
		ptrSize: pointerSize(s),
		align:   make([]int32, n),
		w:       w,
		out:     make([]byte, 0, 256<<10),
		budget:  1 << 20,
		work:    1 << 22,
	}
	d.st[0].order, d.st[0].emit = ordered, emitted
	tags, idents := 0, 0
	for id := TypeID(1); id < s.End(); id++ {
		t := s.Type(id)
		d.budget += 8 * (1 + len(t.Members) + len(t.Values))
		d.work += 64 * (1 + len(t.Members) + len(t.Values))
		switch t.Kind {
		case KindStruct, KindUnion, KindEnum, KindEnum64, KindInt:
			tags++
			idents += len(t.Values)
		case KindTypedef:
			idents++
		}
		switch t.Kind {
		case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag,
			KindFunc, KindVar, KindDeclTag:
			d.st[t.Type].referenced = true
		case KindArray:
			d.st[t.Index].referenced = true
			d.st[t.Type].referenced = true
		case KindStruct, KindUnion, KindFuncProto:
			// A prototype's return type does not count: libbpf's
			// dumper looks only at its parameters.
			for i := range t.Members {
				d.st[t.Members[i].Type].referenced = true
			}
		case KindDatasec:
			for i := range t.Vars {
				d.st[t.Vars[i].Type].referenced = true
			}
		}
	}
	d.typeNames = make(map[string]int, tags)
	d.identNames = make(map[string]int, idents)
	return d
}

func (d *cDumper) str(s string) { d.out = append(d.out, s...) }

// pfx appends the indentation of level lvl, at most 13 tabs as libbpf.
func (d *cDumper) pfx(lvl int) {
	const tabs = "\t\t\t\t\t\t\t\t\t\t\t\t\t"
	d.out = append(d.out, tabs[:min(max(lvl, 0), len(tabs))]...)
}

func (d *cDumper) flush() error {
	if d.err == nil && len(d.out) > 0 {
		_, d.err = d.w.Write(d.out)
	}
	d.out = d.out[:0]
	return d.err
}

// fail records why the dump stops; the first reason wins.
func (d *cDumper) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// line counts one printed line against the budget.
func (d *cDumper) line() {
	if d.budget--; d.budget < 0 {
		d.fail(errTooLarge)
	}
}

// step counts one step of a walk. The walks visit types again where
// libbpf's do (prototypes and qualifiers when ordering, anonymous structs
// when emitting), which only hostile BTF can make exponential.
func (d *cDumper) step() bool {
	if d.work--; d.work < 0 {
		d.fail(errTooLarge)
		return false
	}
	return true
}

// dumpType prints id and what it needs that is not printed yet.
func (d *cDumper) dumpType(id TypeID) error {
	d.queue = d.queue[:0]
	if _, err := d.order(id, false); err != nil {
		return err
	}
	for _, q := range d.queue {
		d.emitType(q, 0)
		if d.err != nil {
			return d.err
		}
		if len(d.out) > 128<<10 {
			if err := d.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func cycleError(id TypeID, t *Type) error {
	return fmt.Errorf("dump C: type [%d] %s '%s': %w", id, t.Kind, t.Name, errCycle)
}

// order queues what id needs, then id itself if it is a top-level
// declaration. throughPtr says the path to it went through a pointer. It
// reports whether the link is strong: whether id must be complete (or at
// least declared, for a typedef) before the type that uses it.
func (d *cDumper) order(id TypeID, throughPtr bool) (bool, error) {
	st := &d.st[id]
	if st.order == ordered {
		return true, nil
	}
	if !d.step() {
		return false, d.err
	}
	t := d.s.Type(id)
	if st.order == ordering {
		// A loop, fine if a forward declaration breaks it.
		if (t.Kind == KindStruct || t.Kind == KindUnion) && throughPtr && t.Name != "" {
			return false, nil
		}
		return false, cycleError(id, t)
	}
	switch t.Kind {
	case KindInt, KindFloat:
		st.order = ordered
		return false, nil
	case KindStruct, KindUnion:
		if throughPtr && t.Name != "" {
			return false, nil
		}
		st.order = ordering
		for i := range t.Members {
			if _, err := d.order(t.Members[i].Type, false); err != nil {
				return false, err
			}
		}
		if t.Name != "" {
			d.queue = append(d.queue, id)
		}
		st.order = ordered
		return true, nil
	case KindEnum, KindEnum64, KindFwd:
		// Named ones, and anonymous enums nothing refers to (constants),
		// are top-level declarations.
		if t.Name != "" || !st.referenced {
			d.queue = append(d.queue, id)
		}
		st.order = ordered
		return true, nil
	case KindFunc, KindVar, KindDatasec, KindDeclTag:
		st.order = ordered
		return false, nil
	case KindPtr, KindArray, KindTypedef, KindConst, KindVolatile, KindRestrict, KindTypeTag, KindFuncProto:
	default:
		return false, fmt.Errorf("dump C: type [%d]: unknown kind %d", id, t.Kind)
	}
	// The kinds without an order state of their own may come back on
	// the walk's path, by another way (a typedef of a struct that points
	// to it). Coming back the same way, through a pointer or not, would
	// go round again: libbpf ends that in an unsatisfiable cycle error
	// or, when no struct is on the loop, recurses until it crashes.
	way := uint8(1)
	if throughPtr {
		way = 2
	}
	if st.busy&way != 0 {
		return false, cycleError(id, t)
	}
	st.busy |= way
	strong, err := d.orderRef(id, t, throughPtr)
	st.busy &^= way
	return strong, err
}

// orderRef orders the kinds that lead to other types.
func (d *cDumper) orderRef(id TypeID, t *Type, throughPtr bool) (bool, error) {
	st := &d.st[id]
	switch t.Kind {
	case KindPtr:
		strong, err := d.order(t.Type, true)
		st.order = ordered
		return strong, err
	case KindArray:
		return d.order(t.Type, false)
	case KindTypedef:
		strong, err := d.order(t.Type, throughPtr)
		if err != nil {
			return false, err
		}
		// Like a struct, a typedef used through a pointer can wait.
		if throughPtr && !strong {
			return false, nil
		}
		d.queue = append(d.queue, id)
		st.order = ordered
		return true, nil
	case KindFuncProto:
		strong, err := d.order(t.Type, throughPtr)
		if err != nil {
			return false, err
		}
		for i := range t.Members {
			s, err := d.order(t.Members[i].Type, throughPtr)
			if err != nil {
				return false, err
			}
			strong = strong || s
		}
		return strong, nil
	}
	// CONST, VOLATILE, RESTRICT, TYPE_TAG.
	return d.order(t.Type, throughPtr)
}

// maxEmitDepth bounds emitType's recursion, which ordering keeps finite
// on any BTF it accepts; deeper means something was missed.
const maxEmitDepth = 1 << 16

// emitType prints the top-level declaration of id when cont is 0, or what
// a use of id inside the definition of cont (a struct, union or typedef
// being printed) needs first: forward declarations of structs and unions
// under way, and typedefs.
func (d *cDumper) emitType(id, cont TypeID) {
	st := &d.st[id]
	if st.emit == emitted || d.err != nil || !d.step() {
		return
	}
	if d.depth++; d.depth > maxEmitDepth {
		d.fail(cycleError(id, d.s.Type(id)))
	}
	defer func() { d.depth-- }()
	t := d.s.Type(id)
	topLevel := cont == 0
	if st.emit == emitting {
		if st.fwdEmitted {
			return
		}
		switch t.Kind {
		case KindStruct, KindUnion:
			// A struct may refer to itself without a declaration; an
			// anonymous one in a loop cannot be declared at all.
			if id == cont || t.Name == "" {
				return
			}
			d.structFwd(id, t)
			d.str(";\n\n")
			st.fwdEmitted = true
		case KindTypedef:
			// Needed by name while its target is being printed: good
			// enough for uses through pointers.
			if !isBuiltinVaList(t) {
				d.typedefDef(id, t, 0)
				d.str(";\n\n")
			}
			st.fwdEmitted = true
		}
		return
	}
	switch t.Kind {
	case KindInt:
		d.missingAlias(id)
		st.emit = emitted
	case KindEnum, KindEnum64:
		if topLevel {
			d.enumDef(id, t, 0)
			d.str(";\n\n")
		}
		st.emit = emitted
	case KindPtr, KindVolatile, KindConst, KindRestrict, KindTypeTag, KindArray:
		d.emitType(t.Type, cont)
	case KindFwd:
		d.fwdDef(id, t)
		d.str(";\n\n")
		st.emit = emitted
	case KindTypedef:
		st.emit = emitting
		d.emitType(t.Type, id)
		if !st.fwdEmitted && !isBuiltinVaList(t) {
			d.typedefDef(id, t, 0)
			d.str(";\n\n")
		}
		st.emit = emitted
	case KindStruct, KindUnion:
		st.emit = emitting
		// A definition (top level, or an anonymous struct printed
		// inline) prints its members: declare what they need first.
		if topLevel || t.Name == "" {
			inner := id
			if t.Name == "" {
				inner = cont
			}
			for i := range t.Members {
				d.emitType(t.Members[i].Type, inner)
			}
		} else if !st.fwdEmitted && id != cont {
			d.structFwd(id, t)
			d.str(";\n\n")
			st.fwdEmitted = true
		}
		if topLevel {
			d.line()
			d.structDef(id, t, 0)
			d.str(";\n\n")
			st.emit = emitted
		} else {
			st.emit = notEmitted
		}
	case KindFuncProto:
		d.emitType(t.Type, cont)
		for i := range t.Members {
			d.emitType(t.Members[i].Type, cont)
		}
	}
}

// isBuiltinVaList reports whether t is the compiler's own
// __builtin_va_list, which the header must not redefine.
func isBuiltinVaList(t *Type) bool { return t.Name == "__builtin_va_list" }

// missingBaseTypes are typedefs GCC uses for Arm SIMD types without
// defining them; libbpf's dumper defines them where the INT is used.
var missingBaseTypes = [...][2]string{
	{"__Poly8_t", "unsigned char"},
	{"__Poly16_t", "unsigned short"},
	{"__Poly64_t", "unsigned long long"},
	{"__Poly128_t", "unsigned __int128"},
}

func (d *cDumper) missingAlias(id TypeID) {
	// The INT's name takes a place among the tags, as in libbpf.
	name := d.typeName(id)
	for _, m := range missingBaseTypes {
		if name == m[0] {
			d.str("typedef " + m[1] + " " + name + ";\n\n")
			return
		}
	}
}

// nameDups counts one more use of name in names and returns the count.
func nameDups(names map[string]int, name string) int {
	n := names[name] + 1
	names[name] = n
	return n
}

// resolveName is the C name of id: its BTF name, with ___N when it is the
// Nth distinct type of that name in names. Forward declarations and
// enums without values keep their names.
func (d *cDumper) resolveName(id TypeID, names map[string]int) string {
	t := d.s.Type(id)
	if t.Name == "" {
		return ""
	}
	st := &d.st[id]
	if !st.nameResolved {
		st.nameResolved = true
		if t.Kind == KindFwd || (t.Kind == KindEnum && len(t.Values) == 0) {
			return t.Name
		}
		if n := nameDups(names, t.Name); n > 1 {
			d.names[id] = dupName(t.Name, n)
		}
	}
	if n := d.names[id]; n != "" {
		return n
	}
	return t.Name
}

// dupName is name___n, cut to 255 bytes as libbpf's buffer cuts it.
func dupName(name string, n int) string {
	b := make([]byte, 0, len(name)+8)
	b = append(b, name...)
	b = append(b, "___"...)
	b = appendU(b, uint64(n))
	if len(b) > 255 {
		b = b[:255]
	}
	return string(b)
}

func (d *cDumper) typeName(id TypeID) string  { return d.resolveName(id, d.typeNames) }
func (d *cDumper) identName(id TypeID) string { return d.resolveName(id, d.identNames) }

func compositeKeyword(t *Type) string {
	if t.Kind == KindUnion {
		return "union"
	}
	return "struct"
}

// structFwd prints `struct name` (or union).
func (d *cDumper) structFwd(id TypeID, t *Type) {
	d.str(compositeKeyword(t))
	if t.Name != "" {
		d.str(" ")
	}
	d.str(d.typeName(id))
}

// fwdDef prints a FWD: `union name` with kind_flag, else `struct name`.
func (d *cDumper) fwdDef(id TypeID, t *Type) {
	name := d.typeName(id)
	if t.KFlag {
		d.str("union ")
	} else {
		d.str("struct ")
	}
	d.str(name)
}

func (d *cDumper) typedefDef(id TypeID, t *Type, lvl int) {
	name := d.identName(id)
	// Old GCC emits __gnuc_va_list as a typedef of void.
	if t.Type == 0 && name == "__gnuc_va_list" {
		d.str("typedef __builtin_va_list __gnuc_va_list")
		return
	}
	d.str("typedef ")
	d.typeDecl(t.Type, name, lvl)
}

// enumDef prints an enum's definition, without the semicolon: values in
// C's spelling for their signedness and width, then the mode attribute
// that gives a 1-byte enum, or an 8-byte one whose values fit in 32 bits,
// its size.
func (d *cDumper) enumDef(id TypeID, t *Type, lvl int) {
	d.str("enum")
	if t.Name != "" {
		d.str(" ")
	}
	d.str(d.typeName(id))
	if len(t.Values) == 0 {
		return
	}
	d.str(" {")
	for i := range t.Values {
		d.line()
		v := &t.Values[i]
		d.str("\n")
		d.pfx(lvl + 1)
		d.str(v.Name)
		if n := nameDups(d.identNames, v.Name); n > 1 {
			d.str("___")
			d.out = appendU(d.out, uint64(n))
		}
		d.str(" = ")
		switch {
		case t.Kind == KindEnum && t.KFlag:
			d.out = appendI(d.out, int64(int32(v.Val)))
		case t.Kind == KindEnum:
			d.out = appendU(d.out, uint64(uint32(v.Val)))
		case t.KFlag:
			d.out = appendI(d.out, int64(v.Val))
			d.str("LL")
		default:
			d.out = appendU(d.out, v.Val)
			d.str("ULL")
		}
		d.str(",")
	}
	d.str("\n")
	d.pfx(lvl)
	d.str("}")
	switch {
	case t.Size == 1:
		d.str(" __attribute__((mode(byte)))")
	case t.Size == 8 && d.ptrSize == 8:
		// An ENUM cannot hold 64-bit values; an ENUM64 gets 8 bytes by
		// itself when a value needs them.
		word := true
		if t.Kind == KindEnum64 {
			word = !slices.ContainsFunc(t.Values, func(v EnumValue) bool { return v.Val>>32 != 0 })
		}
		if word {
			d.str(" __attribute__((mode(word)))")
		}
	}
}

// kfuncs prints bpftool's block of kfunc prototypes: an extern
// declaration, __weak __ksym, of every FUNC that a bpf_kfunc declaration
// tag marks, sorted by name, __bpf_fastcall for those a bpf_fastcall tag
// marks too.
func (d *cDumper) kfuncs() error {
	d.str("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n")
	var kfuncs []TypeID
	fastcalls := map[TypeID]bool{}
	for id := TypeID(1); id < d.s.End(); id++ {
		t := d.s.Type(id)
		if t.Kind != KindDeclTag || t.ComponentIdx != -1 || d.s.Type(t.Type).Kind != KindFunc {
			continue
		}
		switch t.Name {
		case "bpf_kfunc":
			kfuncs = append(kfuncs, t.Type)
		case "bpf_fastcall":
			fastcalls[t.Type] = true
		}
	}
	slices.SortStableFunc(kfuncs, func(a, b TypeID) int {
		return strings.Compare(d.s.Type(a).Name, d.s.Type(b).Name)
	})
	for _, id := range kfuncs {
		d.line()
		fn := d.s.Type(id)
		d.str("extern ")
		if fastcalls[id] {
			d.str("__bpf_fastcall ")
		}
		d.typeDecl(fn.Type, fn.Name, 0)
		d.str(" __weak __ksym;\n")
		if d.err != nil {
			return d.err
		}
	}
	d.str("#endif\n\n")
	return nil
}
