package asm

import (
	"fmt"
	"strings"

	ebpfbtf "github.com/cilium/ebpf/btf"
)

// protoMax is the size of bpftool's signature buffer; longer signatures are
// dropped, as bpftool drops them.
const protoMax = 1024

// FuncProto renders a BTF function the way bpftool's btf_dumper prints a
// function header: "int demo_prog(struct __sk_buff * skb)". It returns ""
// for types bpftool cannot render (type tags, declaration tags).
func FuncProto(t ebpfbtf.Type) string {
	var b strings.Builder
	if !typeOnly(&b, t, 0) || b.Len() >= protoMax {
		return ""
	}
	return b.String()
}

// typeOnly writes a type in btf_dumper's "type only" style: every name is
// followed by a space, pointers add "* ", arrays add "[N]".
func typeOnly(b *strings.Builder, t ebpfbtf.Type, depth int) bool {
	if depth > 64 {
		return false
	}
	switch t := t.(type) {
	case nil, *ebpfbtf.Void:
		b.WriteString("void ")
	case *ebpfbtf.Int:
		fmt.Fprintf(b, "%s ", t.Name)
	case *ebpfbtf.Typedef:
		fmt.Fprintf(b, "%s ", t.Name)
	case *ebpfbtf.Float:
		fmt.Fprintf(b, "%s ", t.Name)
	case *ebpfbtf.Struct:
		fmt.Fprintf(b, "struct %s ", t.Name)
	case *ebpfbtf.Union:
		fmt.Fprintf(b, "union %s ", t.Name)
	case *ebpfbtf.Enum:
		fmt.Fprintf(b, "enum %s ", t.Name)
	case *ebpfbtf.Array:
		if !typeOnly(b, t.Type, depth+1) {
			return false
		}
		fmt.Fprintf(b, "[%d]", t.Nelems)
	case *ebpfbtf.Pointer:
		if !typeOnly(b, t.Target, depth+1) {
			return false
		}
		b.WriteString("* ")
	case *ebpfbtf.Fwd:
		kind := "struct"
		if t.Kind == ebpfbtf.FwdUnion {
			kind = "union"
		}
		fmt.Fprintf(b, "%s %s ", kind, t.Name)
	case *ebpfbtf.Volatile:
		b.WriteString("volatile ")
		return typeOnly(b, t.Type, depth+1)
	case *ebpfbtf.Const:
		b.WriteString("const ")
		return typeOnly(b, t.Type, depth+1)
	case *ebpfbtf.Restrict:
		b.WriteString("restrict ")
		return typeOnly(b, t.Type, depth+1)
	case *ebpfbtf.FuncProto:
		return funcSig(b, t, "", false, depth)
	case *ebpfbtf.Func:
		proto, ok := t.Type.(*ebpfbtf.FuncProto)
		if !ok {
			return false
		}
		return funcSig(b, proto, t.Name, true, depth)
	case *ebpfbtf.Var:
		if t.Linkage == ebpfbtf.StaticVar {
			b.WriteString("static ")
		}
		if !typeOnly(b, t.Type, depth+1) {
			return false
		}
		fmt.Fprintf(b, " %s", t.Name)
	case *ebpfbtf.Datasec:
		fmt.Fprintf(b, "section (\"%s\") ", t.Name)
	default:
		return false
	}
	return true
}

func funcSig(b *strings.Builder, proto *ebpfbtf.FuncProto, name string, named bool, depth int) bool {
	if !typeOnly(b, proto.Return, depth+1) {
		return false
	}
	if named {
		fmt.Fprintf(b, "%s(", name)
	} else {
		b.WriteString("(")
	}
	for i, p := range proto.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		if _, void := p.Type.(*ebpfbtf.Void); void || p.Type == nil {
			b.WriteString("...")
			continue
		}
		if !typeOnly(b, p.Type, depth+1) {
			return false
		}
		if p.Name != "" {
			b.WriteString(p.Name)
		} else if s := b.String(); strings.HasSuffix(s, " ") {
			// An unnamed parameter drops the space its type left behind.
			b.Reset()
			b.WriteString(s[:len(s)-1])
		}
	}
	b.WriteString(")")
	return true
}
