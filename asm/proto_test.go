package asm

import (
	"testing"

	ebpfbtf "github.com/cilium/ebpf/btf"
)

func TestFuncProto(t *testing.T) {
	intT := &ebpfbtf.Int{Name: "int", Size: 4, Encoding: ebpfbtf.Signed}
	u8 := &ebpfbtf.Typedef{Name: "__u8", Type: &ebpfbtf.Int{Name: "unsigned char", Size: 1}}
	skb := &ebpfbtf.Struct{Name: "__sk_buff"}
	fn := func(name string, ret ebpfbtf.Type, params ...ebpfbtf.FuncParam) *ebpfbtf.Func {
		return &ebpfbtf.Func{Name: name, Type: &ebpfbtf.FuncProto{Return: ret, Params: params}}
	}
	cb := &ebpfbtf.Pointer{Target: &ebpfbtf.FuncProto{Return: intT, Params: []ebpfbtf.FuncParam{{Type: intT}, {Type: intT}}}}
	tests := []struct {
		fn   ebpfbtf.Type
		want string
	}{
		{fn("demo_prog", intT, ebpfbtf.FuncParam{Name: "skb", Type: &ebpfbtf.Pointer{Target: skb}}), "int demo_prog(struct __sk_buff * skb)"},
		{fn("helper_sub", intT, ebpfbtf.FuncParam{Name: "x", Type: intT}), "int helper_sub(int x)"},
		{fn("nothing", &ebpfbtf.Void{}), "void nothing()"},
		{fn("anon", intT, ebpfbtf.FuncParam{Type: intT}), "int anon(int)"},
		{fn("va", intT, ebpfbtf.FuncParam{Name: "fmt", Type: &ebpfbtf.Pointer{Target: &ebpfbtf.Const{Type: &ebpfbtf.Int{Name: "char", Size: 1}}}},
			ebpfbtf.FuncParam{Type: &ebpfbtf.Void{}}), "int va(const char * fmt, ...)"},
		{fn("arr", u8, ebpfbtf.FuncParam{Name: "a", Type: &ebpfbtf.Array{Type: u8, Nelems: 4}}), "__u8 arr(__u8 [4]a)"},
		{fn("cb", intT, ebpfbtf.FuncParam{Name: "f", Type: cb}), "int cb(int (int, int)* f)"},
		{fn("fwd", intT, ebpfbtf.FuncParam{Name: "u", Type: &ebpfbtf.Pointer{Target: &ebpfbtf.Fwd{Name: "u", Kind: ebpfbtf.FwdUnion}}}), "int fwd(union u * u)"},
		{fn("tagged", intT, ebpfbtf.FuncParam{Name: "p", Type: &ebpfbtf.Pointer{Target: &ebpfbtf.TypeTag{Value: "user", Type: intT}}}), ""},
		{fn("e", &ebpfbtf.Enum{Name: "mode", Size: 4}, ebpfbtf.FuncParam{Name: "v", Type: &ebpfbtf.Volatile{Type: intT}}), "enum mode e(volatile int v)"},
	}
	for _, tt := range tests {
		if got := FuncProto(tt.fn); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
