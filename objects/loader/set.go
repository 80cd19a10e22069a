package loader

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// SetVariable sets the global variable name of spec to value before load,
// parsing value by the variable's BTF type with btf.ParseValue, so it
// takes exactly what `map update` takes: integers (any base, e.g. 42,
// 0x2a), bools, enums (by value name or number), chars, floats, pointers,
// byte arrays from a plain string (NUL-padded), and JSON for structs and
// other arrays. It is how `bpfkit run --set targ_pid=123` configures
// `const volatile` globals.
func SetVariable(spec *ebpf.CollectionSpec, name, value string) error {
	vs := spec.Variables[name]
	if vs == nil {
		names := make([]string, 0, len(spec.Variables))
		for n := range spec.Variables {
			if !strings.HasPrefix(n, ".") {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			return fmt.Errorf("set %s: the object has no global variables", name)
		}
		return fmt.Errorf("set %s: no such global variable (globals: %s)", name, strings.Join(names, ", "))
	}
	if vs.Type == nil {
		return fmt.Errorf("set %s: the object has no BTF for this variable", name)
	}
	if isConst, isVolatile := qualifiers(vs.Type.Type); isConst && !isVolatile {
		return fmt.Errorf("set %s: %s is const but not volatile, so clang folded its value into the code and setting it would change nothing; declare it `const volatile`", name, name)
	}
	buf, err := btf.ParseValue(vs.Type.Type, value)
	if err != nil {
		// Say what is wrong with the word: "x" is not a 32-bit unsigned integer.
		var we *btf.WordError
		if errors.As(err, &we) {
			return fmt.Errorf("set %s: %q %s", name, we.Word, we.Problem)
		}
		return fmt.Errorf("set %s: %w", name, err)
	}
	if err := vs.Set(buf); err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	return nil
}

// qualifiers reports whether t is const and whether it is volatile, at its
// top (`const volatile int x`: both; `const int x`: const only).
func qualifiers(t ebpfbtf.Type) (isConst, isVolatile bool) {
	for range 16 {
		switch q := t.(type) {
		case *ebpfbtf.Const:
			isConst, t = true, q.Type
		case *ebpfbtf.Volatile:
			isVolatile, t = true, q.Type
		case *ebpfbtf.Restrict:
			t = q.Type
		case *ebpfbtf.TypeTag:
			t = q.Type
		default:
			return isConst, isVolatile
		}
	}
	return isConst, isVolatile
}

// unreadVariable returns a warning when no instruction of obj refers to
// the global variable name, so that setting it changes nothing; "" when
// some instruction does (or the object cannot tell).
func unreadVariable(obj *Object, name string) string {
	if obj.file == nil {
		return ""
	}
	for _, rs := range obj.file.Relocations {
		if strings.HasPrefix(rs.Target, ".debug_") || strings.HasPrefix(rs.Target, ".BTF") {
			continue
		}
		for _, r := range rs.Entries {
			if r.RefersTo == "global "+name || strings.HasPrefix(r.RefersTo, "global "+name+" ") {
				return ""
			}
		}
	}
	return fmt.Sprintf("set %s: no instruction of the object reads %s, so its value changes nothing", name, name)
}
