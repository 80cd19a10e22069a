package render

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/btf"
	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/mapdata"
)

// DumpFormat selects the output of a DumpPrinter.
type DumpFormat struct {
	JSON   bool // bpftool -j
	Pretty bool // bpftool -p
	// Multi wraps each map in {"id","type","name","flags","elements":[...]}
	// (JSON and typed plain) or separates maps with a blank line (plain
	// hex), as bpftool does when a name matches several maps.
	Multi bool
	// Hex forces the plain hex layout even for maps with BTF, as bpftool
	// does when several maps are dumped and one of them has no BTF.
	Hex bool
}

// DumpPrinter writes map elements to an io.Writer byte for byte as
// `bpftool map dump` does: the plain hex layout with its "Found N
// elements" footer, the JSON-like typed listing for maps with BTF, or
// JSON (-j/-p) with a "formatted" member when the map has BTF. It streams
// through a buffered writer and keeps nothing per element.
type DumpPrinter struct {
	bw     *bufio.Writer
	format DumpFormat
	j      *jsonw.Writer // JSON or typed plain output
	typed  bool          // plain output through j
	lay    mapdata.Layout
	count  int
	nmaps  int
	line   []byte
	err    error
}

// NewDumpPrinter returns a printer writing to w. Call BeginMap, mapdata.Entry for
// each element, EndMap, and Close.
func NewDumpPrinter(w io.Writer, f DumpFormat) *DumpPrinter {
	return &DumpPrinter{bw: bufio.NewWriterSize(w, 256<<10), format: f}
}

// BeginMap starts the elements of one map.
func (p *DumpPrinter) BeginMap(l mapdata.Layout) {
	p.lay = l
	p.count = 0
	p.typed = !p.format.JSON && !p.format.Hex && l.ValueType != nil
	if p.j == nil && (p.format.JSON || p.typed) {
		p.j = jsonw.New(p.bw, p.format.Pretty || p.typed)
		if p.format.Multi {
			p.j.StartArray()
		}
	}
	if p.j != nil && (p.format.JSON || p.typed) {
		if p.format.Multi {
			p.j.StartObject()
			p.j.Name("id")
			p.j.Uint(uint64(l.ID))
			p.j.Name("type")
			if n := objects.MapTypeName(l.Type); n.Known() {
				p.j.String(n.Name)
			} else {
				p.j.Uint(uint64(l.Type))
			}
			if l.Name != "" {
				p.j.Name("name")
				p.j.String(l.Name)
			}
			p.j.Name("flags")
			p.j.Int(int64(int32(l.Flags)))
			p.j.Name("elements")
		}
		p.j.StartArray()
	} else if p.format.Multi {
		if p.nmaps > 0 {
			p.bw.WriteByte('\n')
		}
		// bpftool's show_map_header_plain
		p.bw.WriteString(strconv.FormatUint(uint64(l.ID), 10) + ": ")
		if n := objects.MapTypeName(l.Type); n.Known() {
			p.bw.WriteString(n.Name + "  ")
		} else {
			p.bw.WriteString("type " + n.String() + "  ")
		}
		if l.Name != "" {
			p.bw.WriteString("name " + l.Name + "  ")
		}
		p.bw.WriteString("flags 0x" + strconv.FormatUint(uint64(l.Flags), 16) + "\n")
	}
	p.nmaps++
}

// Entry prints one element.
func (p *DumpPrinter) Entry(e *mapdata.Entry) error {
	if e.Errno != 0 {
		p.entryError(e)
		return p.err
	}
	p.count++
	switch {
	case p.format.JSON:
		p.entryJSON(e)
	case p.typed:
		p.typedKV(e, btf.ValuePlain)
	default:
		p.entryPlain(e)
	}
	return p.err
}

// Count is the number of elements printed for the current map.
func (p *DumpPrinter) Count() int { return p.count }

// EndMap ends the current map: "Found N elements" in plain hex, the
// closing brackets otherwise.
func (p *DumpPrinter) EndMap() {
	if p.j != nil && (p.format.JSON || p.typed) {
		p.j.EndArray()
		if p.format.Multi {
			p.j.EndObject()
		}
		return
	}
	p.bw.WriteString("Found ")
	p.bw.WriteString(strconv.Itoa(p.count))
	if p.count == 1 {
		p.bw.WriteString(" element\n")
	} else {
		p.bw.WriteString(" elements\n")
	}
}

// Close ends the output and flushes it.
func (p *DumpPrinter) Close() error {
	if p.j != nil {
		if p.format.Multi {
			p.j.EndArray()
		}
		p.bw.WriteByte('\n')
	}
	return p.Flush()
}

// Flush writes out what is buffered.
func (p *DumpPrinter) Flush() error {
	if err := p.bw.Flush(); err != nil && p.err == nil {
		p.err = err
	}
	return p.err
}

// AppendHex appends data as bpftool's fprint_hex does: "%02x" bytes
// separated by a space, two spaces after every 8 bytes and a newline
// after every 16.
func AppendHex(dst, data []byte) []byte {
	const digits = "0123456789abcdef"
	for i, c := range data {
		switch {
		case i == 0:
		case i%16 == 0:
			dst = append(dst, '\n')
		case i%8 == 0:
			dst = append(dst, ' ', ' ')
		default:
			dst = append(dst, ' ')
		}
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return dst
}

func (p *DumpPrinter) entryPlain(e *mapdata.Entry) {
	l := &p.lay
	b := p.line[:0]
	if !mapdata.IsPerCPU(l.Type) {
		sep := nameSep(int(l.KeySize), int(l.ValueSize))
		if l.KeySize > 0 {
			b = appendPlainKey(b, e.Key, int(l.ValueSize))
		}
		if l.ValueSize > 0 {
			if mapdata.IsMapOfMaps(l.Type) {
				b = append(b, "inner_map_id:"...)
				b = append(b, sep)
				b = strconv.AppendUint(b, uint64(binary.LittleEndian.Uint32(padTo(e.Value, 4))), 10)
				b = append(b, ' ')
			} else {
				b = append(b, "value:"...)
				b = append(b, sep)
				b = AppendHex(b, e.Value)
			}
		}
		b = append(b, '\n')
	} else {
		if l.KeySize > 0 {
			b = append(b, "key:\n"...)
			b = AppendHex(b, e.Key)
			b = append(b, '\n')
		}
		if l.ValueSize > 0 {
			sep := byte(' ')
			if l.ValueSize > 16 {
				sep = '\n'
			}
			for i, v := range e.PerCPU {
				b = append(b, "value (CPU "...)
				if i < 10 {
					b = append(b, '0')
				}
				b = strconv.AppendInt(b, int64(i), 10)
				b = append(b, "):"...)
				b = append(b, sep)
				b = AppendHex(b, v)
				b = append(b, '\n')
			}
		}
	}
	p.line = b
	p.bw.Write(b)
}

// nameSep is what follows "key:" and "value:" in bpftool's plain element
// (print_entry_plain): a newline when the key or the value is longer than
// 16 bytes, a space otherwise.
func nameSep(keyLen, valueLen int) byte {
	if keyLen > 16 || valueLen > 16 {
		return '\n'
	}
	return ' '
}

// appendPlainKey appends "key:" and key in hex, then two spaces when the
// value follows on the same line (key and value fit 24 bytes and neither
// breaks), or a newline.
func appendPlainKey(b, key []byte, valueLen int) []byte {
	sep := nameSep(len(key), valueLen)
	b = append(b, "key:"...)
	b = append(b, sep)
	b = AppendHex(b, key)
	if sep == ' ' && len(key)+valueLen <= 24 {
		return append(b, ' ', ' ')
	}
	return append(b, '\n')
}

func padTo(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	out := make([]byte, n)
	copy(out, b)
	return out
}

// Strerror is glibc's strerror text for errno, which bpftool prints; it
// differs from Go's for a few values (ENOTSUPP has no name in libc).
func Strerror(errno unix.Errno) string {
	switch errno {
	case 524:
		return "Unknown error 524"
	}
	s := errno.Error()
	if s == "" {
		return "Unknown error " + strconv.Itoa(int(errno))
	}
	// Go lower-cases the first letter; glibc does not.
	if c := s[0]; c >= 'a' && c <= 'z' {
		s = string(c-'a'+'A') + s[1:]
	}
	return s
}

func (p *DumpPrinter) entryError(e *mapdata.Entry) {
	l := &p.lay
	if mapdata.SkipMissing(l.Type, e.Errno) {
		return
	}
	if p.format.JSON {
		p.j.StartObject()
		p.j.Name("key")
		p.j.HexBytes(e.Key)
		p.j.Name("value")
		p.j.StartObject()
		p.j.Name("error")
		p.j.String(Strerror(e.Errno))
		p.j.EndObject()
		p.j.EndObject()
		return
	}
	msg := Strerror(e.Errno)
	if e.Errno == unix.ENOENT {
		msg = "<no entry>"
	} else if e.Errno == unix.ENOSPC && l.Type == ebpf.ReusePortSockArray {
		msg = "<cannot read>"
	}
	b := appendPlainKey(p.line[:0], e.Key, len(msg))
	b = append(b, "value:"...)
	b = append(b, nameSep(len(e.Key), len(msg)))
	b = append(b, msg...)
	b = append(b, '\n')
	p.line = b
	p.bw.Write(b)
}

func (p *DumpPrinter) entryJSON(e *mapdata.Entry) {
	l := &p.lay
	j := p.j
	j.StartObject()
	j.Name("key")
	j.HexBytes(e.Key)
	if !mapdata.IsPerCPU(l.Type) {
		j.Name("value")
		j.HexBytes(e.Value)
		if mapdata.IsMapOfMaps(l.Type) {
			j.Name("inner_map_id")
			j.Uint(uint64(binary.LittleEndian.Uint32(padTo(e.Value, 4))))
		}
	} else {
		writePerCPU(j, e.PerCPU, func(v []byte) error {
			j.HexBytes(v)
			return nil
		})
	}
	if l.ValueType != nil {
		j.Name("formatted")
		p.typedKV(e, btf.ValueJSON)
	}
	j.EndObject()
}

// typedKV is bpftool's do_dump_btf.
func (p *DumpPrinter) typedKV(e *mapdata.Entry, mode btf.ValueMode) {
	l := &p.lay
	j := p.j
	j.StartObject()
	defer j.EndObject()
	if l.KeyType != nil {
		j.Name("key")
		if btf.WriteValue(j, l.KeyType, e.Key, mode) != nil {
			return
		}
	}
	if !mapdata.IsPerCPU(l.Type) {
		j.Name("value")
		btf.WriteValue(j, l.ValueType, e.Value, mode)
		return
	}
	writePerCPU(j, e.PerCPU, func(v []byte) error { return btf.WriteValue(j, l.ValueType, v, mode) })
}

// writePerCPU writes bpftool's per-CPU values, "values":[{"cpu":N,"value":
// ...},...], each value by write; it stops after the first that fails.
func writePerCPU(j *jsonw.Writer, values [][]byte, write func([]byte) error) {
	j.Name("values")
	j.StartArray()
	for i, v := range values {
		j.StartObject()
		j.Name("cpu")
		j.Int(int64(i))
		j.Name("value")
		err := write(v)
		j.EndObject()
		if err != nil {
			break
		}
	}
	j.EndArray()
}

// PrintEntry prints a single element as `bpftool map lookup` does: the
// JSON object, the typed object, or the plain hex lines.
func PrintEntry(w io.Writer, l mapdata.Layout, f DumpFormat, e *mapdata.Entry) error {
	p := NewDumpPrinter(w, f)
	p.lay = l
	p.typed = !f.JSON && !f.Hex && l.ValueType != nil
	if f.JSON || p.typed {
		p.j = jsonw.New(p.bw, f.Pretty || p.typed)
	}
	switch {
	case e.Errno != 0:
		p.entryError(e)
	case f.JSON:
		p.entryJSON(e)
	case p.typed:
		p.typedKV(e, btf.ValuePlain)
	default:
		p.entryPlain(e)
	}
	if p.j != nil {
		p.bw.WriteByte('\n')
	}
	return p.Flush()
}

// PrintNextKey prints the answer of `map getnext` as bpftool does.
func PrintNextKey(w io.Writer, f DumpFormat, key []byte, hasKey bool, next []byte) error {
	bw := bufio.NewWriter(w)
	if f.JSON {
		j := jsonw.New(bw, f.Pretty)
		j.StartObject()
		j.Name("key")
		if hasKey {
			j.HexBytes(key)
		} else {
			j.Null()
		}
		j.Name("next_key")
		j.HexBytes(next)
		j.EndObject()
		bw.WriteByte('\n')
		return bw.Flush()
	}
	var b []byte
	if hasKey {
		b = append(b, "key:\n"...)
		b = append(AppendHex(b, key), '\n')
	} else {
		b = append(b, "key: None\n"...)
	}
	b = append(b, "next key:\n"...)
	b = append(AppendHex(b, next), '\n')
	bw.Write(b)
	return bw.Flush()
}

// MapDump returns the writer of `map dump`; multi when several maps are
// dumped, hex to force the plain hex layout (bpftool does when one of
// several maps has no BTF).
func (p *textPrinter) MapDump(multi, hex bool) *DumpPrinter {
	return NewDumpPrinter(p.w, DumpFormat{Multi: multi, Hex: hex})
}

func (p *jsonPrinter) MapDump(multi, hex bool) *DumpPrinter {
	return NewDumpPrinter(p.w, DumpFormat{JSON: true, Pretty: p.pretty, Multi: multi, Hex: hex})
}

func (p *textPrinter) MapEntry(l mapdata.Layout, e *mapdata.Entry) error {
	return PrintEntry(p.w, l, DumpFormat{}, e)
}

func (p *jsonPrinter) MapEntry(l mapdata.Layout, e *mapdata.Entry) error {
	return PrintEntry(p.w, l, DumpFormat{JSON: true, Pretty: p.pretty}, e)
}

// MapEntryMissing is bpftool's answer to a lookup of a missing key: the
// key and "Not found".
func (p *textPrinter) MapEntryMissing(key []byte) error {
	b := append([]byte("key:\n"), AppendHex(nil, key)...)
	_, err := fmt.Fprintf(p.w, "%s\n\nNot found\n", b)
	return err
}

// MapEntryMissing is null, as bpftool prints it.
func (p *jsonPrinter) MapEntryMissing([]byte) error { return p.Null() }

func (p *textPrinter) NextKey(key []byte, hasKey bool, next []byte) error {
	return PrintNextKey(p.w, DumpFormat{}, key, hasKey, next)
}

func (p *jsonPrinter) NextKey(key []byte, hasKey bool, next []byte) error {
	return PrintNextKey(p.w, DumpFormat{JSON: true, Pretty: p.pretty}, key, hasKey, next)
}
