package gen

import (
	"bytes"
	"fmt"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/cmd/bpf2go/gen"

	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// GoOptions say what Go bindings to write.
type GoOptions struct {
	// Package is the Go package name (default: the stem).
	Package string
	// Stem prefixes every top-level name, as bpf2go's identifier stem
	// does (default: the object's name, "mapdata" for mapdata.bpf.o).
	Stem string
	// Types are more named types to write besides those of the maps'
	// keys and values and of the globals: event structs, for instance.
	Types []string
}

// Go returns Go source for the object at path, as bpf2go generates it
// with cilium/ebpf's own generator: a type per map key and value and per
// global variable's type (and each of opts.Types), the names of the maps,
// programs and variables, and functions that load the object, which the
// source embeds from a file of the object's base name beside it.
func Go(path string, opts GoOptions) ([]byte, error) {
	f, err := elfobj.Open(path)
	if err != nil {
		return nil, err
	}
	spec, err := f.CollectionSpec()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if opts.Stem == "" {
		opts.Stem = stemOf(path)
	}
	if !token.IsIdentifier(opts.Stem) {
		return nil, fmt.Errorf("name '%s' is not a Go identifier", opts.Stem)
	}
	if opts.Package == "" {
		opts.Package = strings.ToLower(opts.Stem)
	}
	if !token.IsIdentifier(opts.Package) {
		return nil, fmt.Errorf("package '%s' is not a Go identifier", opts.Package)
	}

	var maps, vars, progs []string
	for name := range spec.Maps {
		// .data, .rodata and .bss are reached through their variables.
		if !strings.HasPrefix(name, ".") {
			maps = append(maps, name)
		}
	}
	for name := range spec.Variables {
		vars = append(vars, name)
	}
	for name := range spec.Programs {
		progs = append(progs, name)
	}
	slices.Sort(maps)
	slices.Sort(vars)
	slices.Sort(progs)

	var types []btf.Type
	for _, name := range opts.Types {
		if spec.Types == nil {
			return nil, fmt.Errorf("%s has no BTF: no type '%s'", path, name)
		}
		typ, err := anyTypeByName(spec.Types, name)
		if err != nil {
			return nil, fmt.Errorf("type '%s': %w", name, err)
		}
		types = append(types, typ)
	}
	for _, t := range gen.CollectGlobalTypes(spec) {
		if !slices.ContainsFunc(types, func(have btf.Type) bool { return have.TypeName() == t.TypeName() }) {
			types = append(types, t)
		}
	}

	var buf bytes.Buffer
	err = gen.Generate(gen.GenerateArgs{
		Package:    opts.Package,
		Stem:       opts.Stem,
		Maps:       maps,
		Variables:  vars,
		Programs:   progs,
		Types:      types,
		ObjectFile: filepath.Base(path),
		Output:     &buf,
	})
	if err != nil {
		return nil, fmt.Errorf("generate Go for %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

// anyTypeByName finds the named struct, union, enum or typedef.
func anyTypeByName(spec *btf.Spec, name string) (btf.Type, error) {
	var found []btf.Type
	for typ, err := range spec.All() {
		if err != nil {
			return nil, err
		}
		switch typ.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum, *btf.Typedef:
			if typ.TypeName() == name {
				found = append(found, typ)
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("not in the object's BTF")
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%d types have this name", len(found))
}

// stemOf makes an identifier of an object's file name: "mapdata" for
// mapdata.bpf.o, "my_prog" for my-prog.o.
func stemOf(path string) string {
	name := filepath.Base(path)
	name = strings.TrimSuffix(name, ".o")
	name = strings.TrimSuffix(name, ".bpf")
	name = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			return r
		}
		return '_'
	}, name)
	if name == "" || unicode.IsDigit(rune(name[0])) {
		name = "bpf" + name
	}
	return name
}
