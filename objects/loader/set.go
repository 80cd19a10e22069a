package loader

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// SetVariable sets the global variable name of spec to value before load,
// parsing value by the variable's BTF type: integers (any base strconv
// accepts, e.g. 42, 0x2a), bool (true/false/1/0), enums (by value name or
// number), char arrays (a string, NUL-padded), floats and pointers.
// It is how `bpfkit run --set targ_pid=123` configures `const volatile`
// globals.
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
	buf, err := encodeValue(vs.Type.Type, int(vs.Size()), value)
	if err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	if err := vs.Set(buf); err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	return nil
}

// encodeValue turns text into the bytes of a value of BTF type t (native
// little-endian byte order).
func encodeValue(t ebpfbtf.Type, size int, value string) ([]byte, error) {
	buf := make([]byte, size)
	putUint := func(v uint64) []byte {
		switch size {
		case 1:
			buf[0] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(buf, uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(buf, uint32(v))
		case 8:
			binary.LittleEndian.PutUint64(buf, v)
		}
		return buf
	}
	switch ut := ebpfbtf.UnderlyingType(t).(type) {
	case *ebpfbtf.Int:
		if ut.Encoding&ebpfbtf.Bool != 0 {
			b, err := strconv.ParseBool(value)
			if err != nil {
				return nil, fmt.Errorf("%q is not a bool", value)
			}
			if b {
				return putUint(1), nil
			}
			return putUint(0), nil
		}
		if size > 8 {
			return nil, fmt.Errorf("%d-byte integers are not supported", size)
		}
		if ut.Encoding&ebpfbtf.Signed != 0 {
			v, err := strconv.ParseInt(value, 0, size*8)
			if err != nil {
				return nil, fmt.Errorf("%q is not a %d-bit signed integer", value, size*8)
			}
			return putUint(uint64(v)), nil
		}
		v, err := strconv.ParseUint(value, 0, size*8)
		if err != nil {
			return nil, fmt.Errorf("%q is not a %d-bit unsigned integer", value, size*8)
		}
		return putUint(v), nil
	case *ebpfbtf.Enum:
		for _, ev := range ut.Values {
			if ev.Name == value {
				return putUint(ev.Value), nil
			}
		}
		v, err := strconv.ParseInt(value, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a value of enum %s nor a number", value, ut.Name)
		}
		return putUint(uint64(v)), nil
	case *ebpfbtf.Pointer:
		v, err := strconv.ParseUint(value, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address", value)
		}
		return putUint(v), nil
	case *ebpfbtf.Float:
		v, err := strconv.ParseFloat(value, size*8)
		if err != nil {
			return nil, fmt.Errorf("%q is not a float", value)
		}
		if size == 4 {
			return putUint(uint64(math.Float32bits(float32(v)))), nil
		}
		return putUint(math.Float64bits(v)), nil
	case *ebpfbtf.Array:
		if el, ok := ebpfbtf.UnderlyingType(ut.Type).(*ebpfbtf.Int); ok && el.Size == 1 {
			if len(value) > size {
				return nil, fmt.Errorf("%q is longer than %d bytes", value, size)
			}
			copy(buf, value)
			return buf, nil
		}
	}
	return nil, fmt.Errorf("cannot set a variable of type %v from text", t)
}
