package btf

// Declarations: C writes a declaration inside out. `typedef const int *
// const *arr[10];` is, in BTF, typedef -> array -> ptr -> const -> ptr ->
// const -> int: qualifiers come before what they qualify in BTF, but a
// pointer's qualifiers follow its `*` in C, and arrays and prototypes
// wrap the declarator in parentheses. typeDecl pushes the chain from the
// declared name down to its base type on a stack, and typeChain prints it
// back from the base up, libbpf's way, so the spacing is bpftool's
// (`int ***p`, `char * const *q`, `void (*f)(int)`). Nested declarations
// (a prototype's parameters, an anonymous struct's members) push their
// chains above the current one on the same stack.

// declView is one declaration's part of the shared stack d.decl: the
// entries base to base+cnt-1, the last on top.
type declView struct{ base, cnt int }

func (v *declView) top(d *cDumper) TypeID { return d.decl[v.base+v.cnt-1] }

// typeDecl prints the declaration of name (possibly empty) with type id
// at indentation lvl (for inline struct definitions).
func (d *cDumper) typeDecl(id TypeID, name string, lvl int) {
	start := len(d.decl)
	limit := start + int(d.s.End()) + 1
chain:
	for {
		if len(d.decl) > limit {
			d.fail(cycleError(id, d.s.Type(id)))
			d.decl = d.decl[:start]
			return
		}
		d.decl = append(d.decl, id)
		if id == 0 {
			break
		}
		t := d.s.Type(id)
		switch t.Kind {
		case KindPtr, KindVolatile, KindConst, KindRestrict, KindFuncProto, KindTypeTag, KindArray:
			id = t.Type
		default:
			// The base type, or a kind that cannot be in a
			// declaration, which typeChain leaves out.
			break chain
		}
	}
	v := declView{base: start, cnt: len(d.decl) - start}
	d.typeChain(&v, name, lvl)
	d.decl = d.decl[:start]
}

// emitMods prints the qualifiers on top of the stack, which qualify the
// base type about to be printed: `const volatile int`.
func (d *cDumper) emitMods(v *declView) {
	for v.cnt > 0 {
		switch d.s.Type(v.top(d)).Kind {
		case KindVolatile:
			d.str("volatile ")
		case KindConst:
			d.str("const ")
		case KindRestrict:
			d.str("restrict ")
		default:
			return
		}
		v.cnt--
	}
}

// dropMods drops qualifiers that C cannot put where they are: on an
// array (GCC's), or on a prototype (GCC's volatile for noreturn).
func (d *cDumper) dropMods(v *declView) {
	for v.cnt > 0 {
		switch d.s.Type(v.top(d)).Kind {
		case KindVolatile, KindConst, KindRestrict, KindTypeTag:
			v.cnt--
		default:
			return
		}
	}
}

// declName prints the declared name, after a space unless it follows a
// `*`.
func (d *cDumper) declName(name string, lastWasPtr bool) {
	if name != "" && !lastWasPtr {
		d.str(" ")
	}
	d.str(name)
}

// typeChain prints the declaration chain v, base type first.
func (d *cDumper) typeChain(v *declView, name string, lvl int) {
	// A lone pointer on its own chain (under a prototype) prints as
	// `(*name)`, hence true.
	lastWasPtr := true
	for v.cnt > 0 && d.step() {
		v.cnt--
		id := d.decl[v.base+v.cnt]
		if id == 0 {
			d.emitMods(v)
			d.str("void")
			lastWasPtr = false
			continue
		}
		t := d.s.Type(id)
		switch t.Kind {
		case KindInt, KindFloat:
			d.emitMods(v)
			d.str(t.Name)
		case KindStruct, KindUnion:
			d.emitMods(v)
			if t.Name == "" {
				d.structDef(id, t, lvl)
			} else {
				d.structFwd(id, t)
			}
		case KindEnum, KindEnum64:
			d.emitMods(v)
			if t.Name == "" {
				d.enumDef(id, t, lvl)
			} else {
				d.str("enum ")
				d.str(d.typeName(id))
			}
		case KindFwd:
			d.emitMods(v)
			d.fwdDef(id, t)
		case KindTypedef:
			d.emitMods(v)
			d.str(d.identName(id))
		case KindPtr:
			if lastWasPtr {
				d.str("*")
			} else {
				d.str(" *")
			}
		case KindVolatile:
			d.str(" volatile")
		case KindConst:
			d.str(" const")
		case KindRestrict:
			d.str(" restrict")
		case KindTypeTag:
			d.emitMods(v)
			if t.KFlag {
				d.str(" __attribute__((" + t.Name + "))")
			} else {
				d.str(` __attribute__((btf_type_tag("` + t.Name + `")))`)
			}
		case KindArray:
			d.dropMods(v)
			if v.cnt == 0 {
				d.declName(name, lastWasPtr)
				d.arrayDim(t)
				return
			}
			// Arrays of arrays need no parentheses: `int a[2][3]`.
			multidim := d.s.Type(v.top(d)).Kind == KindArray
			if name != "" && !lastWasPtr {
				d.str(" ")
			}
			if !multidim {
				d.str("(")
			}
			d.typeChain(v, name, lvl)
			if !multidim {
				d.str(")")
			}
			d.arrayDim(t)
			return
		case KindFuncProto:
			d.dropMods(v)
			if v.cnt > 0 {
				d.str(" (")
				d.typeChain(v, name, lvl)
				d.str(")")
			} else {
				d.declName(name, lastWasPtr)
			}
			d.params(t, lvl)
			return
		default:
			return // FUNC, VAR, DATASEC, DECL_TAG: not a C type
		}
		lastWasPtr = t.Kind == KindPtr
	}
	d.declName(name, lastWasPtr)
}

func (d *cDumper) arrayDim(t *Type) {
	d.str("[")
	d.out = appendU(d.out, uint64(t.Nelems))
	d.str("]")
}

// params prints a prototype's parameter list: `(void)` for none (clang
// gives a prototype without parameters one void parameter), `...` for a
// last void parameter.
func (d *cDumper) params(t *Type, lvl int) {
	d.str("(")
	if len(t.Members) == 0 || (len(t.Members) == 1 && t.Members[0].Type == 0) {
		d.str("void)")
		return
	}
	for i := range t.Members {
		p := &t.Members[i]
		if i > 0 {
			d.str(", ")
		}
		if i == len(t.Members)-1 && p.Type == 0 {
			d.str("...")
			break
		}
		d.typeDecl(p.Type, p.Name, lvl)
	}
	d.str(")")
}
