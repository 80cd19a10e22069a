package btf

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// This kernel has no modules, so no module BTF in /sys/kernel/btf: the
// tests build split BTF over vmlinux as pahole builds a module's. It
// holds the types of a test object, whose scalars are vmlinux's (as
// deduplication against the base leaves them), and types that use
// vmlinux's structs by pointer and by value, a struct named as one of
// vmlinux's (printed ___2), module constants, and kfuncs with their
// declaration tags, one a fastcall.

// btfWriter encodes types as split BTF over base: IDs and string
// offsets continue the base's.
type btfWriter struct {
	base  *Spec
	types bytes.Buffer
	strs  bytes.Buffer
	next  TypeID
}

func newBTFWriter(base *Spec) *btfWriter {
	w := &btfWriter{base: base, next: base.End()}
	w.strs.WriteByte(0)
	return w
}

func (w *btfWriter) str(s string) uint32 {
	if s == "" {
		return 0
	}
	off := w.base.strBase + uint32(len(w.base.strs)) + uint32(w.strs.Len())
	w.strs.WriteString(s + "\x00")
	return off
}

func (w *btfWriter) words(v ...uint32) {
	for _, x := range v {
		binary.Write(&w.types, binary.LittleEndian, x)
	}
}

// add appends t, with its references mapped by ref, and returns its ID.
func (w *btfWriter) add(t *Type, ref func(TypeID) TypeID) TypeID {
	vlen := uint32(len(t.Members) + len(t.Values) + len(t.Vars))
	if t.Kind == KindFunc {
		vlen = t.Linkage
	}
	info := uint32(t.Kind)<<24 | vlen
	if t.KFlag {
		info |= 1 << 31
	}
	sizeType := uint32(ref(t.Type))
	switch t.Kind {
	case KindInt, KindEnum, KindEnum64, KindStruct, KindUnion, KindDatasec, KindFloat:
		sizeType = t.Size
	case KindArray, KindFwd:
		sizeType = 0
	}
	w.words(w.str(t.Name), info, sizeType)
	switch t.Kind {
	case KindInt:
		w.words(uint32(t.IntEncoding)<<24 | uint32(t.IntOffset)<<16 | uint32(t.IntBits))
	case KindArray:
		w.words(uint32(ref(t.Type)), uint32(ref(t.Index)), t.Nelems)
	case KindStruct, KindUnion:
		for _, m := range t.Members {
			w.words(w.str(m.Name), uint32(ref(m.Type)), m.Offset)
		}
	case KindFuncProto:
		for _, m := range t.Members {
			w.words(w.str(m.Name), uint32(ref(m.Type)))
		}
	case KindEnum:
		for _, v := range t.Values {
			w.words(w.str(v.Name), uint32(v.Val))
		}
	case KindEnum64:
		for _, v := range t.Values {
			w.words(w.str(v.Name), uint32(v.Val), uint32(v.Val>>32))
		}
	case KindVar:
		w.words(t.Linkage)
	case KindDatasec:
		for _, v := range t.Vars {
			w.words(uint32(ref(v.Type)), v.Offset, v.Size)
		}
	case KindDeclTag:
		w.words(uint32(t.ComponentIdx))
	}
	id := w.next
	w.next++
	return id
}

// bytes returns the split BTF blob.
func (w *btfWriter) bytes() []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint16(btfMagic))
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, []uint32{24, 0, uint32(w.types.Len()), uint32(w.types.Len()), uint32(w.strs.Len())})
	b.Write(w.types.Bytes())
	b.Write(w.strs.Bytes())
	return b.Bytes()
}

// baseType returns the ID of the type of kind and name in base.
func baseType(t *testing.T, base *Spec, kind Kind, name string) TypeID {
	t.Helper()
	for id := base.FirstID(); id < base.End(); id++ {
		if ty := base.Type(id); ty.Kind == kind && ty.Name == name {
			return id
		}
	}
	t.Fatalf("vmlinux has no %s %s", kind, name)
	return 0
}

// moduleBTF builds module-like split BTF over base (see above).
func moduleBTF(t *testing.T, base *Spec) []byte {
	t.Helper()
	obj, ok := parseObject(t, testutil.Object(t, "btfkinds"))
	if !ok {
		t.Fatal("btfkinds.bpf.o has no .BTF")
	}
	w := newBTFWriter(base)
	ints := map[string]TypeID{}
	for id := base.FirstID(); id < base.End(); id++ {
		if ty := base.Type(id); ty.Kind == KindInt {
			ints[ty.Name] = id
		}
	}
	// The object's types, in order: its scalars are vmlinux's.
	ids := make([]TypeID, obj.End())
	next := w.next
	for id := TypeID(1); id < obj.End(); id++ {
		if ty := obj.Type(id); ty.Kind == KindInt && ints[ty.Name] != 0 {
			ids[id] = ints[ty.Name]
			continue
		}
		ids[id] = next
		next++
	}
	ref := func(id TypeID) TypeID { return ids[id] }
	for id := TypeID(1); id < obj.End(); id++ {
		if ty := obj.Type(id); ids[id] >= w.next {
			w.add(ty, ref)
		}
	}

	same := func(id TypeID) TypeID { return id }
	intID := ints["int"]
	u32 := baseType(t, base, KindTypedef, "u32")
	task := baseType(t, base, KindStruct, "task_struct")
	listHead := baseType(t, base, KindStruct, "list_head")
	taskPtr := w.add(&Type{Kind: KindPtr, Type: task}, same)
	// struct modstate { struct task_struct *owner; struct list_head node; u32 flags; };
	modstate := w.add(&Type{Name: "modstate", Kind: KindStruct, Size: 32, Members: []Member{
		{Name: "owner", Type: taskPtr}, {Name: "node", Type: listHead, Offset: 64}, {Name: "flags", Type: u32, Offset: 192},
	}}, same)
	modPtr := w.add(&Type{Kind: KindPtr, Type: modstate}, same)
	// A module's own struct list_head: another type of a name vmlinux has.
	w.add(&Type{Name: "list_head", Kind: KindStruct, Size: 4, Members: []Member{{Name: "count", Type: intID}}}, same)
	// Module constants: an anonymous enum nothing refers to, first in
	// bpftool's sorted order.
	w.add(&Type{Kind: KindEnum, Size: 4, Values: []EnumValue{{Name: "AAA_MODSTATE_FIRST", Val: 1}, {Name: "MODSTATE_B", Val: 2}}}, same)
	// int modstate_get(struct modstate *s, struct task_struct *t); and a fastcall one.
	proto := w.add(&Type{Kind: KindFuncProto, Type: intID, Members: []Member{{Name: "s", Type: modPtr}, {Name: "t", Type: taskPtr}}}, same)
	get := w.add(&Type{Name: "modstate_get", Kind: KindFunc, Type: proto, Linkage: 1}, same)
	fast := w.add(&Type{Name: "modstate_fast", Kind: KindFunc, Type: proto, Linkage: 1}, same)
	w.add(&Type{Name: "bpf_kfunc", Kind: KindDeclTag, Type: get, ComponentIdx: -1}, same)
	w.add(&Type{Name: "bpf_kfunc", Kind: KindDeclTag, Type: fast, ComponentIdx: -1}, same)
	w.add(&Type{Name: "bpf_fastcall", Kind: KindDeclTag, Type: fast, ComponentIdx: -1}, same)
	return w.bytes()
}

// TestCSplitMatchesBpftool78 dumps module-like split BTF over vmlinux as
// C, in both orders, and compares it with bpftool 7.8 -B vmlinux: the
// header holds vmlinux's types and the module's, and the kfuncs of both.
func TestCSplitMatchesBpftool78(t *testing.T) {
	base := loadVmlinux(t)
	data := moduleBTF(t, base)
	s, err := Parse(data, base)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "module.btf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h := checkC78(t, s, "-B", vmlinuxPath, "btf", "dump", "file", path)
	for _, want := range []string{
		"struct modstate {\n\tstruct task_struct *owner;\n\tstruct list_head node;\n\tu32 flags;\n};",
		"struct list_head___2 {\n\tint count;\n};",
		"extern int modstate_get(struct modstate *s, struct task_struct *t) __weak __ksym;",
		"extern __bpf_fastcall int modstate_fast(struct modstate *s, struct task_struct *t) __weak __ksym;",
		"enum {\n\tAAA_MODSTATE_FIRST = 1,\n\tMODSTATE_B = 2,\n};",
		"struct task_struct {\n",
	} {
		if !bytes.Contains(h, []byte(want)) {
			t.Errorf("the header lacks %q", want)
		}
	}
	compileC(t, h, "int f(struct modstate *m) { return modstate_get(m, m->owner); }\n")
}
