package elfobj

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
)

// elfBuilder writes little-endian BPF ELF files section by section, for
// tests that need shapes no compiler emits.
type elfBuilder struct {
	names    bytes.Buffer
	sections []builtSection
}

type builtSection struct {
	name           uint32
	typ            uint32
	flags, entsize uint64
	link, info     uint32
	data           []byte
	offset, size   uint64 // when data is nil: point anywhere
	explicit       bool
}

func newELFBuilder() *elfBuilder {
	b := &elfBuilder{}
	b.names.WriteByte(0)
	b.sections = append(b.sections, builtSection{}) // index 0
	b.add(".shstrtab", shtStrtab, 0, 0, 0, 0, nil)
	return b
}

func (b *elfBuilder) name(s string) uint32 {
	off := uint32(b.names.Len())
	b.names.WriteString(s)
	b.names.WriteByte(0)
	return off
}

func (b *elfBuilder) add(name string, typ uint32, flags, entsize uint64, link, info uint32, data []byte) int {
	b.sections = append(b.sections, builtSection{name: b.name(name), typ: typ, flags: flags, entsize: entsize, link: link, info: info, data: data})
	return len(b.sections) - 1
}

// addAt adds a section header that points at bytes of the file chosen by
// the caller (overlapping other sections, say).
func (b *elfBuilder) addAt(name string, typ uint32, offset, size uint64) int {
	b.sections = append(b.sections, builtSection{name: b.name(name), typ: typ, offset: offset, size: size, explicit: true})
	return len(b.sections) - 1
}

func (b *elfBuilder) bytes() []byte {
	le := binary.LittleEndian
	out := make([]byte, elfHeaderSize)
	copy(out, "\x7fELF")
	out[4], out[5], out[6] = 2, 1, 1
	le.PutUint16(out[16:], etRel)
	le.PutUint16(out[18:], emBPF)
	le.PutUint32(out[20:], 1)
	le.PutUint16(out[52:], elfHeaderSize)
	le.PutUint16(out[58:], elfSectionSize)
	le.PutUint16(out[60:], uint16(len(b.sections)))
	le.PutUint16(out[62:], 1)
	b.sections[1].data = b.names.Bytes()
	for i := range b.sections {
		s := &b.sections[i]
		if s.explicit || i == 0 {
			continue
		}
		for len(out)%8 != 0 {
			out = append(out, 0)
		}
		s.offset, s.size = uint64(len(out)), uint64(len(s.data))
		out = append(out, s.data...)
	}
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	le.PutUint64(out[40:], uint64(len(out)))
	for _, s := range b.sections {
		h := make([]byte, elfSectionSize)
		le.PutUint32(h[0:], s.name)
		le.PutUint32(h[4:], s.typ)
		le.PutUint64(h[8:], s.flags)
		le.PutUint64(h[24:], s.offset)
		le.PutUint64(h[32:], s.size)
		le.PutUint32(h[40:], s.link)
		le.PutUint32(h[44:], s.info)
		le.PutUint64(h[48:], 8)
		le.PutUint64(h[56:], s.entsize)
		out = append(out, h...)
	}
	return out
}

func symbol(name uint32, typ uint8, shndx uint16, value, size uint64) []byte {
	e := make([]byte, elfSymbolSize)
	binary.LittleEndian.PutUint32(e[0:], name)
	e[4] = 1<<4 | typ
	binary.LittleEndian.PutUint16(e[6:], shndx)
	binary.LittleEndian.PutUint64(e[8:], value)
	binary.LittleEndian.PutUint64(e[16:], size)
	return e
}

// readBounded reads data and fails if the reader allocated more than
// factor times the input (plus a fixed allowance).
func readBounded(t *testing.T, data []byte, factor uint64) *File {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := Read(data)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if limit := factor*uint64(len(data)) + 32<<20; alloc > limit {
		t.Errorf("reading %d bytes allocated %d bytes, more than %d", len(data), alloc, limit)
	}
	if err != nil {
		t.Logf("error: %v", err)
		return nil
	}
	return f
}

var hostileN = 100000

// TestELFHostileOverlappingFunctions: many function symbols all spanning
// one large code section must not make instruction counting quadratic.
func TestELFHostileOverlappingFunctions(t *testing.T) {
	b := newELFBuilder()
	code := make([]byte, 1<<20)
	for i := 0; i < len(code); i += 8 {
		code[i] = 0xb7 // r0 = imm
	}
	text := b.add("xdp", shtProgbits, 0x6, 0, 0, 0, code)
	var strs bytes.Buffer
	strs.WriteByte(0)
	strs.WriteString("f\x00")
	var syms bytes.Buffer
	syms.Write(make([]byte, elfSymbolSize))
	n := hostileN
	for i := 0; i < n; i++ {
		syms.Write(symbol(1, stFunc, uint16(text), 0, uint64(len(code))))
	}
	strtab := b.add(".strtab", shtStrtab, 0, 0, 0, 0, strs.Bytes())
	b.add(".symtab", shtSymtab, 0, elfSymbolSize, uint32(strtab), 1, syms.Bytes())
	f := readBounded(t, b.bytes(), 64)
	if f == nil {
		t.Fatal("no file")
	}
	if len(f.Programs) != n {
		t.Errorf("%d programs, want %d", len(f.Programs), n)
	}
	if f.Programs[0].Insns != len(code)/8 {
		t.Errorf("first function: %d insns, want %d", f.Programs[0].Insns, len(code)/8)
	}
}

// TestELFHostileRelocations: many relocations against many functions must
// stay near linear (indexes, not nested loops).
func TestELFHostileRelocations(t *testing.T) {
	b := newELFBuilder()
	const n = 200000
	code := make([]byte, 8*n)
	for i := 0; i < n; i++ {
		code[8*i] = bpfCallOpcode
		code[8*i+1] = 0x10
		binary.LittleEndian.PutUint32(code[8*i+4:], uint32(int32(n-2-i))) // to the last function
	}
	text := b.add(".text", shtProgbits, 0x6, 0, 0, 0, code)
	var strs bytes.Buffer
	strs.WriteString("\x00g\x00")
	var syms bytes.Buffer
	syms.Write(make([]byte, elfSymbolSize))
	syms.Write(symbol(0, stSection, uint16(text), 0, 0))
	for i := 0; i < n; i++ {
		syms.Write(symbol(1, stFunc, uint16(text), uint64(8*i), 8))
	}
	strtab := b.add(".strtab", shtStrtab, 0, 0, 0, 0, strs.Bytes())
	symtab := b.add(".symtab", shtSymtab, 0, elfSymbolSize, uint32(strtab), 2, syms.Bytes())
	var rels bytes.Buffer
	for i := 0; i < n; i++ {
		e := make([]byte, elfRelSize)
		binary.LittleEndian.PutUint64(e[0:], uint64(8*i))
		binary.LittleEndian.PutUint64(e[8:], 1<<32|10)
		rels.Write(e)
	}
	b.add(".rel.text", shtRel, 0x40, elfRelSize, uint32(symtab), uint32(text), rels.Bytes())
	f := readBounded(t, b.bytes(), 64)
	if f == nil {
		t.Fatal("no file")
	}
	if got := f.Relocations[0].Entries[0].RefersTo; got != "call g" || len(f.Programs) != n {
		t.Errorf("first relocation refers to %q", got)
	}
}

// TestELFHostileStrings: every symbol name points into one long string
// without a terminator nearby; names are bounded and share memory.
func TestELFHostileStrings(t *testing.T) {
	b := newELFBuilder()
	long := append([]byte{0}, bytes.Repeat([]byte("a"), 4<<20)...)
	long = append(long, 0)
	text := b.add("xdp", shtProgbits, 0x6, 0, 0, 0, make([]byte, 8))
	var syms bytes.Buffer
	syms.Write(make([]byte, elfSymbolSize))
	for i := 0; i < 100000; i++ {
		syms.Write(symbol(uint32(len(long)-2-i%8000), stObject, uint16(text), 0, 0))
	}
	strtab := b.add(".strtab", shtStrtab, 0, 0, 0, 0, long)
	b.add(".symtab", shtSymtab, 0, elfSymbolSize, uint32(strtab), 1, syms.Bytes())
	f := readBounded(t, b.bytes(), 8)
	if f == nil {
		t.Fatal("no file")
	}
	// A name longer than the limit is an error, not a megabyte string.
	b2 := newELFBuilder()
	b2.add("xdp", shtProgbits, 0x6, 0, 0, 0, make([]byte, 8))
	var syms2 bytes.Buffer
	syms2.Write(make([]byte, elfSymbolSize))
	syms2.Write(symbol(1, stObject, 2, 0, 0))
	st := b2.add(".strtab", shtStrtab, 0, 0, 0, 0, long)
	b2.add(".symtab", shtSymtab, 0, elfSymbolSize, uint32(st), 1, syms2.Bytes())
	if _, err := Read(b2.bytes()); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("long name: %v", err)
	}
}

// TestELFHostileOverlappingSections: thousands of headers naming the same
// large bytes .BTF; the reader notices and does not read them over and
// over (nor hands them to cilium/ebpf).
func TestELFHostileOverlappingSections(t *testing.T) {
	b := newELFBuilder()
	blob := b.add(".BTF", shtProgbits, 0, 0, 0, 0, make([]byte, 4<<20))
	b.add(".strtab", shtStrtab, 0, 0, 0, 0, []byte("\x00"))
	data := b.bytes()
	off := binary.LittleEndian.Uint64(data[binary.LittleEndian.Uint64(data[40:])+uint64(blob)*elfSectionSize+24:])
	b = newELFBuilder()
	for i := 0; i < 20000; i++ {
		b.addAt(".BTF", shtProgbits, off, 4<<20)
	}
	// Reuse the first file's bytes as the data the headers point at.
	table := b.bytes()
	hdrOff := binary.LittleEndian.Uint64(table[40:])
	out := append([]byte(nil), data[:binary.LittleEndian.Uint64(data[40:])]...)
	names := table[elfHeaderSize:hdrOff]
	namesOff := uint64(len(out))
	out = append(out, names...)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	newHdr := uint64(len(out))
	out = append(out, table[hdrOff:]...)
	copy(out[:elfHeaderSize], table[:elfHeaderSize])
	binary.LittleEndian.PutUint64(out[40:], newHdr)
	// Point .shstrtab (section 1) at the copied names.
	sh1 := newHdr + elfSectionSize
	binary.LittleEndian.PutUint64(out[sh1+24:], namesOff+uint64(binary.LittleEndian.Uint64(table[hdrOff+elfSectionSize+24:]))-elfHeaderSize)
	f := readBounded(t, out, 16)
	if f == nil {
		t.Fatal("no file")
	}
	if !strings.Contains(f.BPFError, "overlap") || f.Sections[2].BPF != "BTF: not read (sections overlap)" {
		t.Errorf("overlap not noticed: %q, %q", f.BPFError, f.Sections[2].BPF)
	}
}
