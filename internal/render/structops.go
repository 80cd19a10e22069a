package render

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	ebpfbtf "github.com/cilium/ebpf/btf"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/objects/structops"
)

// StructOps: `struct_ops show`, a table of struct_ops maps.
func (p *textPrinter) StructOps(maps []structops.Map) error {
	rows := make([][]string, 0, len(maps))
	for _, m := range maps {
		rows = append(rows, []string{strconv.FormatUint(uint64(m.ID), 10), orDash(m.Name), m.KernelStructOps})
	}
	return table(p.w, []string{"ID", "NAME", "KERNEL STRUCT_OPS"}, rows)
}

// StructOps: bpftool's array of {"id","name","kernel_struct_ops"}, also
// for one map.
func (p *jsonPrinter) StructOps(maps []structops.Map) error {
	type entry struct {
		ID              uint32 `json:"id"`
		Name            string `json:"name"`
		KernelStructOps string `json:"kernel_struct_ops"`
	}
	out := make([]entry, len(maps))
	for i, m := range maps {
		out[i] = entry{m.ID, m.Name, m.KernelStructOps}
	}
	return p.print(out)
}

// StructOpsDump: bpftool's dump, as in its plain text (indented, with the
// JSON-like values of BTF dumps).
func (p *textPrinter) StructOpsDump(dumps []structops.Dump) error {
	return writeStructOps(p.w, dumps, true, btf.ValuePlain)
}

// StructOpsDump: bpftool's JSON: for each map an object with its
// bpf_map_info and one with its value, named after the value's type.
func (p *jsonPrinter) StructOpsDump(dumps []structops.Dump) error {
	return writeStructOps(p.w, dumps, p.pretty, btf.ValueJSON)
}

func writeStructOps(w io.Writer, dumps []structops.Dump, pretty bool, mode btf.ValueMode) error {
	bw := bufio.NewWriter(w)
	j := jsonw.New(bw, pretty)
	j.StartArray()
	for _, d := range dumps {
		opts := btf.ValueOptions{QuotePointers: true, FuncPointer: funcPointer(d.Programs)}
		j.StartObject()
		j.Name("bpf_map_info")
		if err := btf.WriteValueWith(j, d.InfoType, d.InfoBytes, mode, opts); err != nil {
			return err
		}
		j.EndObject()
		if d.ValueType == nil {
			return fmt.Errorf("struct_ops map %s id %d: its value type is not in the kernel's BTF", d.Name, d.ID)
		}
		j.StartObject()
		j.Name(d.ValueType.TypeName())
		if err := btf.WriteValueWith(j, d.ValueType, d.Value, mode, opts); err != nil {
			return err
		}
		j.EndObject()
	}
	j.EndArray()
	bw.WriteByte('\n')
	return bw.Flush()
}

// funcPointer renders a struct_ops function pointer as bpftool does: the
// function's signature, then the program's name and id, or 0.
func funcPointer(progs map[uint32]string) func(*ebpfbtf.FuncProto, uint64) (string, bool) {
	return func(proto *ebpfbtf.FuncProto, v uint64) (string, bool) {
		sig := bpfasm.FuncProto(proto)
		if sig == "" {
			return "", false
		}
		switch name, ok := progs[uint32(v)]; {
		case v == 0:
			return sig + " 0", true
		case ok && name != "":
			return fmt.Sprintf("%s %s/prog_id:%d", sig, name, v), true
		default:
			return fmt.Sprintf("%s <unknown_prog_name>/prog_id:%d", sig, v), true
		}
	}
}
