package btf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/bpfkit/bpfkit/internal/jsonw"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// ValueMode selects one of bpftool's two renderings of BTF-typed data.
type ValueMode int

const (
	// ValuePlain is the JSON-like text of a plain `map dump` of a map with
	// BTF: pointers and bitfields print as bare hex (0x10), a non-printable
	// char as bare hex, a null pointer as (nil).
	ValuePlain ValueMode = iota
	// ValueJSON is the "formatted" member of `-j` dumps: pointers are
	// numbers, bitfields and 128-bit integers are "0x.." strings.
	ValueJSON
)

// ErrUnsupportedKind is returned (after "(unsupported-kind" was written,
// as bpftool does) for kinds bpftool cannot render, such as forward
// declarations.
var ErrUnsupportedKind = errors.New("unsupported BTF kind")

// WriteValue renders data, laid out as the BTF type t, into j with
// bpftool's btf_dumper semantics: integers as numbers, chars as one-letter
// strings, bools, enums by name, structs and unions as objects keyed by
// member name (bitfields included), arrays (NUL-terminated printable char
// arrays as strings), pointers, variables and data sections as
// {".data":[{"var":value},...]}.
//
// data shorter than the type is padded with zeros. Floats, which bpftool
// v7 cannot print, are printed as numbers.
func WriteValue(j *jsonw.Writer, t ebpfbtf.Type, data []byte, mode ValueMode) error {
	return WriteValueWith(j, t, data, mode, ValueOptions{})
}

// ValueOptions are the renderings bpftool chooses for some dumps only.
type ValueOptions struct {
	// FuncPointer, when set, renders pointers to functions whose value
	// fits 32 bits (struct_ops members hold program ids there) as the
	// string it returns; ok false falls back to the plain pointer.
	FuncPointer func(proto *ebpfbtf.FuncProto, v uint64) (s string, ok bool)
	// QuotePointers prints plain-mode pointers as strings ("0x10",
	// "(nil)"), as bpftool 7.8 does; 7.1 printed them bare.
	QuotePointers bool
}

// WriteValueWith is WriteValue with the renderings of opts.
func WriteValueWith(j *jsonw.Writer, t ebpfbtf.Type, data []byte, mode ValueMode, opts ValueOptions) error {
	if size, err := ebpfbtf.Sizeof(t); err == nil && size > len(data) {
		padded := make([]byte, size)
		copy(padded, data)
		data = padded
	}
	d := dumper{j: j, plain: mode == ValuePlain, opts: opts}
	return d.value(t, 0, data)
}

type dumper struct {
	j     *jsonw.Writer
	plain bool
	opts  ValueOptions
	buf   []byte
}

// at returns data[off:off+n] or zeros when data is too short.
func at(data []byte, off, n int) []byte {
	if off < 0 || n < 0 {
		return make([]byte, n)
	}
	if off+n <= len(data) {
		return data[off : off+n]
	}
	out := make([]byte, n)
	if off < len(data) {
		copy(out, data[off:])
	}
	return out
}

func (d *dumper) value(t ebpfbtf.Type, bitOff uint32, data []byte) error {
	switch v := t.(type) {
	case *ebpfbtf.Struct:
		return d.members(v.Members, data)
	case *ebpfbtf.Union:
		return d.members(v.Members, data)
	case *ebpfbtf.Array:
		return d.array(v, data)
	case *ebpfbtf.Int:
		return d.integer(v, bitOff, data)
	case *ebpfbtf.Pointer:
		d.pointer(v, data)
		return nil
	case *ebpfbtf.Enum:
		d.enum(v, data)
		return nil
	case *ebpfbtf.Fwd:
		d.j.Raw("(fwd-kind-invalid)")
		return fmt.Errorf("%w: forward declaration %s", ErrUnsupportedKind, v.Name)
	case *ebpfbtf.Void:
		d.j.Raw("(unknown)")
		return nil
	case *ebpfbtf.Typedef:
		return d.value(v.Type, bitOff, data)
	case *ebpfbtf.Volatile:
		return d.value(v.Type, bitOff, data)
	case *ebpfbtf.Const:
		return d.value(v.Type, bitOff, data)
	case *ebpfbtf.Restrict:
		return d.value(v.Type, bitOff, data)
	case *ebpfbtf.TypeTag:
		return d.value(v.Type, bitOff, data)
	case *ebpfbtf.Var:
		d.j.StartObject()
		d.j.Name(v.Name)
		err := d.value(v.Type, bitOff, data)
		d.j.EndObject()
		return err
	case *ebpfbtf.Datasec:
		return d.datasec(v, data)
	case *ebpfbtf.Float:
		d.float(v, data)
		return nil
	default:
		d.j.Raw("(unsupported-kind")
		return fmt.Errorf("%w: %T", ErrUnsupportedKind, t)
	}
}

func (d *dumper) members(ms []ebpfbtf.Member, data []byte) error {
	d.j.StartObject()
	defer d.j.EndObject()
	for _, m := range ms {
		d.j.Name(m.Name)
		off := uint32(m.Offset)
		byteOff := int(off / 8)
		if m.BitfieldSize > 0 {
			d.bitfield(uint32(m.BitfieldSize), off%8, data, byteOff)
			continue
		}
		size, err := ebpfbtf.Sizeof(m.Type)
		if err != nil {
			size = 0
		}
		sub := data
		if byteOff <= len(data) {
			sub = data[byteOff:]
		} else {
			sub = nil
		}
		if len(sub) < size {
			sub = at(data, byteOff, size)
		}
		if err := d.value(m.Type, off%8, sub); err != nil {
			return err
		}
	}
	return nil
}

// bitfield extracts nrBits bits starting bitOff bits into data[byteOff:]
// (little endian) and prints them in hex, as btf_dumper_bitfield does.
func (d *dumper) bitfield(nrBits, bitOff uint32, data []byte, byteOff int) {
	nbytes := int(bitOff+nrBits+7) / 8
	if nbytes > 16 {
		nbytes = 16
	}
	raw := at(data, byteOff, nbytes)
	var lo, hi uint64
	var b [16]byte
	copy(b[:], raw)
	lo = binary.LittleEndian.Uint64(b[0:8])
	hi = binary.LittleEndian.Uint64(b[8:16])
	// shift right by bitOff
	if bitOff > 0 {
		lo = lo>>bitOff | hi<<(64-bitOff)
		hi >>= bitOff
	}
	// mask to nrBits
	switch {
	case nrBits < 64:
		lo &= 1<<nrBits - 1
		hi = 0
	case nrBits < 128:
		hi &= 1<<(nrBits-64) - 1
	}
	d.int128(lo, hi)
}

func (d *dumper) int128(lo, hi uint64) {
	var s string
	if hi == 0 {
		s = "0x" + strconv.FormatUint(lo, 16)
	} else {
		s = fmt.Sprintf("0x%x%016x", hi, lo)
	}
	if d.plain {
		d.j.Raw(s)
	} else {
		d.j.Raw(`"` + s + `"`)
	}
}

func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }

func (d *dumper) integer(t *ebpfbtf.Int, bitOff uint32, data []byte) error {
	size := int(t.Size)
	if bitOff != 0 {
		d.bitfield(uint32(size*8), bitOff, data, 0)
		return nil
	}
	raw := at(data, 0, size)
	if size == 16 {
		d.int128(binary.LittleEndian.Uint64(raw[0:8]), binary.LittleEndian.Uint64(raw[8:16]))
		return nil
	}
	switch {
	case t.Encoding&ebpfbtf.Bool != 0:
		d.j.Bool(raw[0] != 0)
	case t.Encoding&ebpfbtf.Char != 0:
		c := raw[0]
		switch {
		case isPrint(c):
			d.j.String(string([]byte{c}))
		case d.plain:
			d.j.Raw("0x" + strconv.FormatUint(uint64(c), 16))
		default:
			d.j.Raw(fmt.Sprintf(`"\u%04x"`, c))
		}
	case t.Encoding&ebpfbtf.Signed != 0:
		switch size {
		case 1:
			d.j.Int(int64(int8(raw[0])))
		case 2:
			d.j.Int(int64(int16(binary.LittleEndian.Uint16(raw))))
		case 4:
			d.j.Int(int64(int32(binary.LittleEndian.Uint32(raw))))
		case 8:
			d.j.Int(int64(binary.LittleEndian.Uint64(raw)))
		default:
			d.bitfield(uint32(size*8), 0, raw, 0)
		}
	default:
		switch size {
		case 1:
			d.j.Uint(uint64(raw[0]))
		case 2:
			d.j.Uint(uint64(binary.LittleEndian.Uint16(raw)))
		case 4:
			d.j.Uint(uint64(binary.LittleEndian.Uint32(raw)))
		case 8:
			d.j.Uint(binary.LittleEndian.Uint64(raw))
		default:
			d.bitfield(uint32(size*8), 0, raw, 0)
		}
	}
	return nil
}

func (d *dumper) pointer(p *ebpfbtf.Pointer, data []byte) {
	v := binary.LittleEndian.Uint64(at(data, 0, 8))
	if d.opts.FuncPointer != nil && v <= math.MaxUint32 {
		if proto, ok := skipQualifiers(p.Target).(*ebpfbtf.FuncProto); ok {
			if s, ok := d.opts.FuncPointer(proto, v); ok {
				d.j.String(s)
				return
			}
		}
	}
	if !d.plain {
		d.j.Uint(v)
		return
	}
	// glibc's %p
	s := "(nil)"
	if v != 0 {
		s = "0x" + strconv.FormatUint(v, 16)
	}
	if d.opts.QuotePointers {
		d.j.String(s)
	} else {
		d.j.Raw(s)
	}
}

// skipQualifiers resolves typedefs and qualifiers, as libbpf's
// btf__resolve_type does.
func skipQualifiers(t ebpfbtf.Type) ebpfbtf.Type {
	for range 64 {
		td, ok := skipCV(t).(*ebpfbtf.Typedef)
		if !ok {
			return skipCV(t)
		}
		t = td.Type
	}
	return t
}

func (d *dumper) enum(t *ebpfbtf.Enum, data []byte) {
	size := int(t.Size)
	raw := at(data, 0, size)
	var u uint64
	var s int64
	switch size {
	case 1:
		s = int64(int8(raw[0]))
	case 2:
		s = int64(int16(binary.LittleEndian.Uint16(raw)))
	case 4:
		s = int64(int32(binary.LittleEndian.Uint32(raw)))
	case 8:
		s = int64(binary.LittleEndian.Uint64(raw))
	default:
		d.j.Raw("(unsupported-kind")
		return
	}
	u = uint64(s)
	mask := uint64(math.MaxUint64)
	if size < 8 {
		mask = 1<<(uint(size)*8) - 1
	}
	for _, ev := range t.Values {
		if ev.Value&mask == u&mask {
			d.j.String(ev.Name)
			return
		}
	}
	if size == 8 && !t.Signed {
		d.j.Uint(u)
		return
	}
	d.j.Int(s)
}

func (d *dumper) float(t *ebpfbtf.Float, data []byte) {
	raw := at(data, 0, int(t.Size))
	var f float64
	switch t.Size {
	case 4:
		f = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw)))
	case 8:
		f = math.Float64frombits(binary.LittleEndian.Uint64(raw))
	default:
		d.j.Raw("(unsupported-kind")
		return
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.j.String(strconv.FormatFloat(f, 'g', -1, 64))
		return
	}
	d.j.Raw(strconv.FormatFloat(f, 'g', -1, 64))
}

// skipCV skips const, volatile, restrict and type tags, but not
// typedefs: bpftool prints an array of a typedef'd char as numbers.
func skipCV(t ebpfbtf.Type) ebpfbtf.Type {
	for range 64 {
		switch q := t.(type) {
		case *ebpfbtf.Const:
			t = q.Type
		case *ebpfbtf.Volatile:
			t = q.Type
		case *ebpfbtf.Restrict:
			t = q.Type
		case *ebpfbtf.TypeTag:
			t = q.Type
		default:
			return t
		}
	}
	return t
}

// isCharInt reports whether t is a 1-byte integer that C spells char:
// CHAR-encoded, or named char.
func isCharInt(t ebpfbtf.Type) bool {
	it, ok := t.(*ebpfbtf.Int)
	return ok && it.Size == 1 && (it.Encoding&ebpfbtf.Char != 0 || it.Name == "char")
}

// isStrArray reports whether a char array holds a printable NUL-terminated
// string, as bpftool's is_str_array decides.
func isStrArray(a *ebpfbtf.Array, data []byte) (string, bool) {
	if a.Nelems == 0 {
		return "", false
	}
	if !isCharInt(skipCV(a.Type)) {
		return "", false
	}
	n := int(a.Nelems)
	for i := 0; i < n && i < len(data); i++ {
		c := data[i]
		if c == 0 {
			return string(data[:i]), true
		}
		if c <= 0x1f || c >= 0x7f {
			return "", false
		}
	}
	return "", false
}

func (d *dumper) array(a *ebpfbtf.Array, data []byte) error {
	if s, ok := isStrArray(a, data); ok {
		d.j.String(s)
		return nil
	}
	esize, err := ebpfbtf.Sizeof(a.Type)
	if err != nil {
		return fmt.Errorf("array element size: %w", err)
	}
	d.j.StartArray()
	defer d.j.EndArray()
	for i := 0; i < int(a.Nelems); i++ {
		if err := d.value(a.Type, 0, at(data, i*esize, esize)); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) datasec(ds *ebpfbtf.Datasec, data []byte) error {
	d.j.StartObject()
	defer d.j.EndObject()
	d.j.Name(ds.Name)
	d.j.StartArray()
	defer d.j.EndArray()
	for _, vs := range ds.Vars {
		size := int(vs.Size)
		if size == 0 {
			size, _ = ebpfbtf.Sizeof(vs.Type)
		}
		if err := d.value(vs.Type, 0, at(data, int(vs.Offset), size)); err != nil {
			return err
		}
	}
	return nil
}

// FormatValue renders data as t into a string (compact JSON mode or plain
// mode without indentation). It is a convenience for tests and messages.
func FormatValue(t ebpfbtf.Type, data []byte, mode ValueMode) (string, error) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	j := jsonw.New(w, false)
	err := WriteValue(j, t, data, mode)
	w.Flush()
	return b.String(), err
}
