package elfobj

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	ebpfbtf "github.com/cilium/ebpf/btf"
)

// cTypeName writes a BTF type as C declares it: "__u32", "struct config",
// "const volatile struct config", "char[8]", "struct event *".
func cTypeName(t ebpfbtf.Type) string {
	return cTypeNameDepth(t, 0)
}

func cTypeNameDepth(t ebpfbtf.Type, depth int) string {
	if depth > 16 {
		return "..."
	}
	switch t := t.(type) {
	case nil:
		return "void"
	case *ebpfbtf.Void:
		return "void"
	case *ebpfbtf.Int:
		return t.Name
	case *ebpfbtf.Float:
		return t.Name
	case *ebpfbtf.Typedef:
		return t.Name
	case *ebpfbtf.Struct:
		return "struct " + orAnon(t.Name)
	case *ebpfbtf.Union:
		return "union " + orAnon(t.Name)
	case *ebpfbtf.Enum:
		return "enum " + orAnon(t.Name)
	case *ebpfbtf.Fwd:
		return t.Kind.String() + " " + t.Name
	case *ebpfbtf.Const:
		return "const " + cTypeNameDepth(t.Type, depth+1)
	case *ebpfbtf.Volatile:
		return "volatile " + cTypeNameDepth(t.Type, depth+1)
	case *ebpfbtf.Restrict:
		return cTypeNameDepth(t.Type, depth+1) + " restrict"
	case *ebpfbtf.TypeTag:
		return cTypeNameDepth(t.Type, depth+1)
	case *ebpfbtf.Pointer:
		return cTypeNameDepth(t.Target, depth+1) + " *"
	case *ebpfbtf.Array:
		return fmt.Sprintf("%s[%d]", cTypeNameDepth(t.Type, depth+1), t.Nelems)
	case *ebpfbtf.FuncProto:
		return "func"
	case *ebpfbtf.Datasec:
		return "section " + t.Name
	}
	return fmt.Sprintf("%v", t)
}

func orAnon(name string) string {
	if name == "" {
		return "{...}"
	}
	return name
}

// Bounds on formatted values, so a huge array prints as a short line.
const (
	maxValueElems  = 16
	maxValueDepth  = 8
	maxValueString = 256
)

// formatValue formats the bytes of a variable by its BTF type: integers
// in decimal, char arrays as strings, structs as {field=value, ...}.
func formatValue(t ebpfbtf.Type, b []byte, bo binary.ByteOrder) string {
	var sb strings.Builder
	writeValue(&sb, t, b, bo, 0)
	return sb.String()
}

func writeValue(sb *strings.Builder, t ebpfbtf.Type, b []byte, bo binary.ByteOrder, depth int) {
	if depth > maxValueDepth {
		sb.WriteString("...")
		return
	}
	t = ebpfbtf.UnderlyingType(t)
	size, err := ebpfbtf.Sizeof(t)
	if err != nil || size < 0 || size > len(b) {
		writeHex(sb, b)
		return
	}
	b = b[:size]
	switch t := t.(type) {
	case *ebpfbtf.Int:
		if t.Encoding == ebpfbtf.Bool && size == 1 {
			sb.WriteString(strconv.FormatBool(b[0] != 0))
			return
		}
		u, ok := readUint(b, bo)
		if !ok {
			writeHex(sb, b)
			return
		}
		if t.Encoding == ebpfbtf.Signed {
			shift := 64 - 8*size
			sb.WriteString(strconv.FormatInt(int64(u<<shift)>>shift, 10))
		} else {
			sb.WriteString(strconv.FormatUint(u, 10))
		}
	case *ebpfbtf.Float:
		switch size {
		case 4:
			sb.WriteString(strconv.FormatFloat(float64(math.Float32frombits(bo.Uint32(b))), 'g', -1, 32))
		case 8:
			sb.WriteString(strconv.FormatFloat(math.Float64frombits(bo.Uint64(b)), 'g', -1, 64))
		default:
			writeHex(sb, b)
		}
	case *ebpfbtf.Enum:
		u, ok := readUint(b, bo)
		if !ok {
			writeHex(sb, b)
			return
		}
		for _, v := range t.Values {
			if v.Value == u {
				sb.WriteString(v.Name)
				return
			}
		}
		sb.WriteString(strconv.FormatUint(u, 10))
	case *ebpfbtf.Pointer:
		u, _ := readUint(b, bo)
		fmt.Fprintf(sb, "0x%x", u)
	case *ebpfbtf.Array:
		if isCharType(t.Type) {
			str := cString(b)
			if len(str) > maxValueString {
				sb.WriteString(strconv.Quote(str[:maxValueString]) + "...")
				return
			}
			sb.WriteString(strconv.Quote(str))
			return
		}
		esize, err := ebpfbtf.Sizeof(t.Type)
		if err != nil || esize <= 0 {
			writeHex(sb, b)
			return
		}
		sb.WriteByte('[')
		for i := 0; i < int(t.Nelems) && (i+1)*esize <= len(b); i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			if i == maxValueElems {
				sb.WriteString("...")
				break
			}
			writeValue(sb, t.Type, b[i*esize:], bo, depth+1)
		}
		sb.WriteByte(']')
	case *ebpfbtf.Struct:
		writeMembers(sb, t.Members, b, bo, depth)
	case *ebpfbtf.Union:
		writeMembers(sb, t.Members, b, bo, depth)
	default:
		writeHex(sb, b)
	}
}

func writeMembers(sb *strings.Builder, members []ebpfbtf.Member, b []byte, bo binary.ByteOrder, depth int) {
	sb.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			sb.WriteString(", ")
		}
		if i == maxValueElems {
			sb.WriteString("...")
			break
		}
		if m.Name != "" {
			sb.WriteString(m.Name)
			sb.WriteByte('=')
		}
		off := int(m.Offset.Bytes())
		if m.BitfieldSize != 0 || off > len(b) {
			sb.WriteString("?")
			continue
		}
		writeValue(sb, m.Type, b[off:], bo, depth+1)
	}
	sb.WriteByte('}')
}

func isCharType(t ebpfbtf.Type) bool {
	t = ebpfbtf.UnderlyingType(t)
	i, ok := t.(*ebpfbtf.Int)
	return ok && i.Size == 1 && (i.Encoding == ebpfbtf.Char || i.Name == "char")
}

func readUint(b []byte, bo binary.ByteOrder) (uint64, bool) {
	switch len(b) {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(bo.Uint16(b)), true
	case 4:
		return uint64(bo.Uint32(b)), true
	case 8:
		return bo.Uint64(b), true
	}
	return 0, false
}

func writeHex(sb *strings.Builder, b []byte) {
	if len(b) > 64 {
		fmt.Fprintf(sb, "% x ...", b[:64])
		return
	}
	fmt.Fprintf(sb, "% x", b)
}
