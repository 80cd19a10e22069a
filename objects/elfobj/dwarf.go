package elfobj

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"strings"
)

// ErrNoDWARF is returned by DWARF for an object built without -g or
// stripped of its debug sections.
var ErrNoDWARF = errors.New("no DWARF debug information (built without -g, or stripped)")

// BPF relocation types found in the .rel.debug_* sections clang writes:
// absolute addresses and section offsets, 64 or 32 bits wide.
const (
	rBPF64Abs64    = 2
	rBPF64Abs32    = 3
	rBPF64NoDyld32 = 4
)

// DWARF returns the object's DWARF debug information. debug/elf cannot
// relocate a BPF object's .debug_* sections (it knows no BPF relocation
// types), so the relocations are applied here, to copies: without them
// every string and type reference of a .o file points to offset 0.
func (f *File) DWARF() (*dwarf.Data, error) {
	secs := map[string][]byte{}
	for i := range f.Sections {
		name := f.Sections[i].Name
		if !strings.HasPrefix(name, ".debug_") || f.Sections[i].TypeNum == shtNobits {
			continue
		}
		if _, dup := secs[name]; dup {
			continue
		}
		data := append([]byte(nil), f.sectionData(i)...)
		if err := f.relocateDebug(i, data); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		secs[name] = data
	}
	if secs[".debug_info"] == nil {
		return nil, ErrNoDWARF
	}
	d, err := dwarf.New(secs[".debug_abbrev"], secs[".debug_aranges"], secs[".debug_frame"],
		secs[".debug_info"], secs[".debug_line"], secs[".debug_pubnames"], secs[".debug_ranges"], secs[".debug_str"])
	if err != nil {
		return nil, fmt.Errorf("DWARF: %w", err)
	}
	for _, name := range []string{".debug_addr", ".debug_line_str", ".debug_str_offsets", ".debug_rnglists", ".debug_loclists", ".debug_types"} {
		if b := secs[name]; b != nil {
			if err := d.AddSection(name, b); err != nil {
				return nil, fmt.Errorf("DWARF %s: %w", name, err)
			}
		}
	}
	return d, nil
}

// relocateDebug applies the REL and RELA sections that target section sec
// to data, a copy of its contents. REL entries keep their addend in place.
func (f *File) relocateDebug(sec int, data []byte) error {
	bo := f.order
	for _, rs := range f.Relocations {
		if int(rs.TargetIndex) != sec {
			continue
		}
		for _, r := range rs.Entries {
			width := uint64(4)
			switch r.TypeNum {
			case rBPF64Abs64:
				width = 8
			case rBPF64Abs32, rBPF64NoDyld32:
			default:
				return fmt.Errorf("relocation at 0x%x: type %d is not one a debug section may have", r.Offset, r.TypeNum)
			}
			if r.Offset > uint64(len(data)) || uint64(len(data))-r.Offset < width {
				return fmt.Errorf("relocation at 0x%x is outside the section (%d bytes)", r.Offset, len(data))
			}
			b := data[r.Offset : r.Offset+width]
			if width == 8 {
				add := uint64(r.Addend)
				if !rs.Rela {
					add = bo.Uint64(b)
				}
				bo.PutUint64(b, r.SymbolValue+add)
			} else {
				add := uint32(r.Addend)
				if !rs.Rela {
					add = bo.Uint32(b)
				}
				bo.PutUint32(b, uint32(r.SymbolValue)+add)
			}
		}
	}
	return nil
}

// Debug is an object's DWARF, indexed for finding types: by name, and as
// the types of each function's parameters and local variables.
type Debug struct {
	Data *dwarf.Data
	// named holds the offset of each named type entry: structs and unions
	// as "struct NAME" and "union NAME", typedefs, enums and base types by
	// their plain names.
	named map[string]dwarf.Offset
	// funcs holds each function with code by name.
	funcs map[string]dwarf.Offset
	// sized lists struct and union entries in DWARF order.
	sized []dwarf.Offset
}

// Debug reads the object's DWARF and indexes its types and functions.
func (f *File) Debug() (*Debug, error) {
	d, err := f.DWARF()
	if err != nil {
		return nil, err
	}
	dbg := &Debug{Data: d, named: map[string]dwarf.Offset{}, funcs: map[string]dwarf.Offset{}}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("DWARF: %w", err)
		}
		if e == nil {
			break
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); decl {
			continue
		}
		switch e.Tag {
		case dwarf.TagStructType, dwarf.TagUnionType:
			dbg.sized = append(dbg.sized, e.Offset)
			if name != "" {
				kw := "struct "
				if e.Tag == dwarf.TagUnionType {
					kw = "union "
				}
				dbg.addName(kw+name, e.Offset)
			}
		case dwarf.TagTypedef, dwarf.TagBaseType, dwarf.TagEnumerationType:
			if name != "" {
				dbg.addName(name, e.Offset)
			}
		case dwarf.TagSubprogram:
			if _, code := e.Val(dwarf.AttrLowpc).(uint64); code && name != "" {
				dbg.funcs[name] = e.Offset
			}
		}
	}
	return dbg, nil
}

func (d *Debug) addName(name string, off dwarf.Offset) {
	if _, seen := d.named[name]; !seen {
		d.named[name] = off
	}
}

// Type returns the type named name ("struct event", "event" for a struct
// or a typedef, "__u32", "unsigned int"), and whether there is one.
func (d *Debug) Type(name string) (dwarf.Type, bool) {
	off, ok := d.named[name]
	if !ok {
		if off, ok = d.named["struct "+name]; !ok {
			off, ok = d.named["union "+name]
		}
	}
	if !ok {
		return nil, false
	}
	t, err := d.Data.Type(off)
	return t, err == nil
}

// Records returns the named structs and unions of size bytes (any size
// when size is negative), in DWARF order.
func (d *Debug) Records(size int64) []dwarf.Type {
	var out []dwarf.Type
	for _, off := range d.sized {
		t, err := d.Data.Type(off)
		if err == nil && (size < 0 || t.Size() == size) && t.(*dwarf.StructType).StructName != "" {
			out = append(out, t)
		}
	}
	return out
}

// LocalTypes returns the types of the parameters and local variables of
// function fn, those of every function inlined into it included (their
// entries name their type through an abstract origin), each type once.
func (d *Debug) LocalTypes(fn string) []dwarf.Type {
	start, ok := d.funcs[fn]
	if !ok {
		return nil
	}
	var out []dwarf.Type
	seenType := map[dwarf.Offset]bool{}
	seenScope := map[dwarf.Offset]bool{}
	var walk func(off dwarf.Offset)
	walk = func(off dwarf.Offset) {
		if seenScope[off] {
			return
		}
		seenScope[off] = true
		r := d.Data.Reader()
		r.Seek(off)
		top, err := r.Next()
		if err != nil || top == nil || !top.Children {
			return
		}
		var origins []dwarf.Offset
		for depth := 1; depth > 0; {
			e, err := r.Next()
			if err != nil || e == nil {
				break
			}
			if e.Tag == 0 {
				depth--
				continue
			}
			switch e.Tag {
			case dwarf.TagVariable, dwarf.TagFormalParameter:
				typ, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
				if !ok {
					if o, isOrigin := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); isOrigin {
						typ, ok = d.typeOf(o)
					}
				}
				if ok && !seenType[typ] {
					seenType[typ] = true
					if t, err := d.Data.Type(typ); err == nil {
						out = append(out, t)
					}
				}
			case dwarf.TagInlinedSubroutine:
				if o, isOrigin := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); isOrigin {
					origins = append(origins, o)
				}
			}
			if e.Children {
				depth++
			}
		}
		for _, o := range origins {
			walk(o)
		}
	}
	walk(start)
	return out
}

// typeOf returns the type offset of the entry at off.
func (d *Debug) typeOf(off dwarf.Offset) (dwarf.Offset, bool) {
	r := d.Data.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return 0, false
	}
	t, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
	return t, ok
}
