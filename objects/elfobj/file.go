package elfobj

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/bpfkit/bpfkit/internal/infile"
	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
)

// ELF constants used by the reader. debug/elf has most of them, but the
// reader does its own decoding so that every bound is checked here.
const (
	elfHeaderSize  = 64
	elfSectionSize = 64
	elfSymbolSize  = 24
	elfRelSize     = 16
	elfRelaSize    = 24

	emBPF         = 247
	etRel         = 1
	shnXIndex     = 0xffff
	shnLoReserve  = 0xff00
	shtNull       = 0
	shtProgbits   = 1
	shtSymtab     = 2
	shtStrtab     = 3
	shtRela       = 4
	shtNobits     = 8
	shtRel        = 9
	shtDynsym     = 11
	shfExecInstr  = 0x4
	stSection     = 3
	stFunc        = 2
	stObject      = 1
	bpfInsnSize   = 8
	bpfLdImm64    = 0x18
	bpfCallOpcode = 0x85
)

// Limits that keep memory bounded on hostile input. Real BPF objects are
// far below all of them (the kernel's own selftests top out at a few MiB).
const (
	// MaxSize is the largest file Open reads (infile.MaxSize, 128 MiB).
	MaxSize        = infile.MaxSize
	maxELFSections = 1 << 16
	maxELFSymbols  = 1 << 19
	maxELFRelocs   = 1 << 20
)

var (
	littleEndian binary.ByteOrder = binary.LittleEndian
	bigEndian    binary.ByteOrder = binary.BigEndian
)

// ErrNotBPF is wrapped by every error for a file that is not a readable
// BPF object: not ELF, truncated or malformed, or an ELF file of another
// machine, class or type. Only the last kind says so in its message; the
// others say what is wrong.
var ErrNotBPF = errors.New("not a BPF object file")

// formatError is a malformed file. It matches ErrNotBPF without saying so
// in its message, which says what is wrong instead.
type formatError struct{ err error }

func (e *formatError) Error() string   { return e.err.Error() }
func (e *formatError) Unwrap() []error { return []error{e.err, ErrNotBPF} }

// notBPF makes err match ErrNotBPF.
func notBPF(err error) error {
	if err == nil || errors.Is(err, ErrNotBPF) {
		return err
	}
	return &formatError{err}
}

// File is a BPF ELF object file: its headers as readelf shows them, and
// what they mean to BPF.
type File struct {
	// ByteOrder is "little" or "big" (BPF objects exist in both).
	ByteOrder   string         `json:"byte_order"`
	Sections    []Section      `json:"sections"`
	Symbols     []Symbol       `json:"symbols"`
	Relocations []RelocSection `json:"relocations"`
	Programs    []Program      `json:"programs"`
	Maps        []Map          `json:"maps"`
	Globals     []Global       `json:"globals"`
	License     string         `json:"license"`
	// Embedded is set when the file is not itself a BPF object but
	// carries one (a libbpf skeleton); the listings are of that object.
	Embedded *Embedding `json:"embedded,omitempty"`
	// BPFError says why the object could not be fully interpreted as a
	// BPF collection (cilium/ebpf refused it); the listings are still
	// complete, only the BPF meaning is partial.
	BPFError string `json:"bpf_error,omitempty"`

	order binary.ByteOrder
	data  []byte
	// spec is the object as cilium/ebpf reads it, nil when BPFError says
	// why it cannot.
	spec   *ebpf.CollectionSpec
	symtab int // section index of .symtab, or -1
	index  elfIndex
	// strtabs holds each string table, read once, by section index.
	strtabs map[int]string
	// kconfig names the externs declared in .kconfig.
	kconfig map[string]bool
	// insnRefs caches what each spec's instructions use.
	insnRefs map[*ebpfasm.Instruction]insnRefs
}

// Section is one section header, with readelf -S's numbers and names.
type Section struct {
	Index    int    `json:"index"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	TypeNum  uint32 `json:"type_num"`
	Flags    string `json:"flags"`
	FlagsNum uint64 `json:"flags_num"`
	Address  uint64 `json:"address"`
	Offset   uint64 `json:"offset"`
	Size     uint64 `json:"size"`
	EntSize  uint64 `json:"entsize"`
	Link     uint32 `json:"link"`
	Info     uint32 `json:"info"`
	Align    uint64 `json:"align"`
	// Kind classifies the section for BPF: program, subprograms, maps,
	// license, version, btf, btf_ext, data, relocations, symbols,
	// strings, debug, addrsig, empty or other.
	Kind string `json:"kind"`
	// BPF says what the section means to a BPF loader.
	BPF string `json:"bpf"`
}

// Symbol is one .symtab entry, with readelf -s's fields.
type Symbol struct {
	Num        int    `json:"num"`
	Value      uint64 `json:"value"`
	Size       uint64 `json:"size"`
	Type       string `json:"type"`
	Bind       string `json:"bind"`
	Visibility string `json:"visibility"`
	// Ndx is readelf's section column: UND, ABS, COM or the index.
	Ndx          string `json:"ndx"`
	SectionIndex uint16 `json:"section_index"`
	Name         string `json:"name"`

	info, other uint8
}

// RelocSection is one REL or RELA section and its entries.
type RelocSection struct {
	Section     string  `json:"section"`
	Index       int     `json:"index"`
	Offset      uint64  `json:"offset"`
	Target      string  `json:"target"`
	TargetIndex uint32  `json:"target_index"`
	Rela        bool    `json:"rela"`
	Entries     []Reloc `json:"entries"`
}

// Reloc is one relocation, with readelf -r's fields and what the
// relocation means to a BPF loader.
type Reloc struct {
	Offset      uint64 `json:"offset"`
	Info        uint64 `json:"info"`
	Type        string `json:"type"`
	TypeNum     uint32 `json:"type_num"`
	SymbolIndex uint32 `json:"symbol_index"`
	SymbolValue uint64 `json:"symbol_value"`
	Symbol      string `json:"symbol"`
	Addend      int64  `json:"addend,omitempty"`
	// RefersTo is what the loader patches in: "map NAME", "global NAME",
	// "call NAME", "extern NAME", "BTF", "DWARF" and so on.
	RefersTo string `json:"refers_to"`
}

// Open reads a BPF object file, or the first BPF object embedded in
// another ELF file (a libbpf skeleton). It is the one way bpfkit opens an
// object file: the readelf-style listing, the loader, the disassembler and
// the BTF dump all start here. Errors start with the path and say what is
// wrong with the file in one line; files that are not BPF objects wrap
// ErrNotBPF.
func Open(path string) (*File, error) {
	f, err := openELF(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func openELF(path string) (*File, error) {
	data, err := infile.Read(path, infile.Limits{What: "a BPF object", Header: 4, Check: elfMagic})
	if err != nil {
		return nil, err
	}
	ef, err := readOrEmbedded(data)
	return ef, notBPF(err)
}

// elfMagic refuses, by its first bytes, a file that is not ELF, as
// parseELF would once it was all read.
func elfMagic(head []byte) error {
	switch {
	case len(head) == 0:
		return notBPF(errors.New("file is empty"))
	case len(head) < 4 || string(head[:4]) != "\x7fELF":
		return notBPF(errors.New("not an ELF file (no ELF magic)"))
	}
	return nil
}

// readOrEmbedded reads data as a BPF object, or else the first BPF
// object embedded in it.
func readOrEmbedded(data []byte) (*File, error) {
	ef, err := read(data)
	if err != nil {
		return readEmbedded(data, err)
	}
	return ef, nil
}

// Read interprets data as a BPF object file. The slice is kept and must
// not be modified afterwards.
func Read(data []byte) (*File, error) {
	f, err := read(data)
	return f, notBPF(err)
}

func read(data []byte) (*File, error) {
	f, err := parseELF(data)
	if err != nil {
		return nil, err
	}
	f.interpret()
	return f, nil
}

func parseELF(data []byte) (*File, error) {
	if len(data) == 0 {
		return nil, errors.New("file is empty")
	}
	if len(data) < 4 || string(data[:4]) != "\x7fELF" {
		return nil, errors.New("not an ELF file (no ELF magic)")
	}
	if len(data) < elfHeaderSize {
		return nil, fmt.Errorf("truncated ELF header: %d bytes, need %d", len(data), elfHeaderSize)
	}
	if data[4] != 2 {
		return nil, fmt.Errorf("%w: ELF class %d, BPF objects are 64-bit (class 2)", ErrNotBPF, data[4])
	}
	f := &File{data: data, symtab: -1}
	switch data[5] {
	case 1:
		f.order, f.ByteOrder = littleEndian, "little"
	case 2:
		f.order, f.ByteOrder = bigEndian, "big"
	default:
		return nil, fmt.Errorf("invalid ELF byte order %d", data[5])
	}
	bo := f.order
	etype := bo.Uint16(data[16:])
	machine := bo.Uint16(data[18:])
	if machine != emBPF {
		return nil, fmt.Errorf("%w: machine is %s, not BPF (%d)", ErrNotBPF, machineName(machine), emBPF)
	}
	if etype != etRel {
		return nil, fmt.Errorf("%w: ELF type is %s, BPF objects are relocatable (REL)", ErrNotBPF, elfTypeName(etype))
	}
	shoff := bo.Uint64(data[40:])
	shentsize := bo.Uint16(data[58:])
	shnum := uint64(bo.Uint16(data[60:]))
	shstrndx := uint32(bo.Uint16(data[62:]))
	if shoff == 0 {
		return nil, errors.New("no section header table")
	}
	if shentsize != elfSectionSize {
		return nil, fmt.Errorf("section header size is %d, want %d", shentsize, elfSectionSize)
	}
	size := uint64(len(data))
	if shoff > size || size-shoff < elfSectionSize {
		return nil, fmt.Errorf("section header table at offset 0x%x is past the end of the file (size 0x%x)", shoff, size)
	}
	// Extended numbering: section 0 holds the real count and string index.
	sh0 := data[shoff : shoff+elfSectionSize]
	if shnum == 0 {
		shnum = bo.Uint64(sh0[32:])
	}
	if shstrndx == shnXIndex {
		shstrndx = bo.Uint32(sh0[40:])
	}
	if shnum == 0 {
		return nil, errors.New("no sections")
	}
	if shnum > maxELFSections {
		return nil, fmt.Errorf("%d sections, more than the %d the reader accepts", shnum, maxELFSections)
	}
	if (size-shoff)/elfSectionSize < shnum {
		return nil, fmt.Errorf("section header table (%d entries at offset 0x%x) runs past the end of the file (size 0x%x)", shnum, shoff, size)
	}
	if uint64(shstrndx) >= shnum {
		return nil, fmt.Errorf("section name table index %d is out of range (%d sections)", shstrndx, shnum)
	}

	f.Sections = make([]Section, shnum)
	nameOff := make([]uint32, shnum)
	for i := range f.Sections {
		h := data[shoff+uint64(i)*elfSectionSize:]
		s := &f.Sections[i]
		s.Index = i
		nameOff[i] = bo.Uint32(h[0:])
		s.TypeNum = bo.Uint32(h[4:])
		s.FlagsNum = bo.Uint64(h[8:])
		s.Address = bo.Uint64(h[16:])
		s.Offset = bo.Uint64(h[24:])
		s.Size = bo.Uint64(h[32:])
		s.Link = bo.Uint32(h[40:])
		s.Info = bo.Uint32(h[44:])
		s.Align = bo.Uint64(h[48:])
		s.EntSize = bo.Uint64(h[56:])
		s.Type = sectionTypeName(s.TypeNum)
		s.Flags = sectionFlagLetters(s.FlagsNum)
		if i == 0 {
			// Section 0 is reserved; its size and link may carry the
			// extended counts read above, and it has no data.
			continue
		}
		if s.TypeNum != shtNobits && s.TypeNum != shtNull {
			if s.Offset > size || s.Size > size-s.Offset {
				return nil, fmt.Errorf("section [%d]: data at offset 0x%x, size 0x%x runs past the end of the file (size 0x%x)", i, s.Offset, s.Size, size)
			}
		}
	}
	strtab := &f.Sections[shstrndx]
	if shstrndx == 0 || strtab.TypeNum != shtStrtab {
		return nil, fmt.Errorf("section name table [%d] is not a string table", shstrndx)
	}
	for i := range f.Sections {
		name, err := f.stringAt(int(shstrndx), nameOff[i])
		if err != nil {
			return nil, fmt.Errorf("section [%d] name: %w", i, err)
		}
		f.Sections[i].Name = name
	}
	for i := range f.Sections {
		s := &f.Sections[i]
		switch s.TypeNum {
		case shtSymtab:
			if f.symtab >= 0 {
				return nil, fmt.Errorf("section [%d]: a second symbol table (the first is [%d])", i, f.symtab)
			}
			if err := f.readSymbols(i); err != nil {
				return nil, fmt.Errorf("symbol table [%d] %s: %w", i, s.Name, err)
			}
		}
	}
	for i := range f.Sections {
		s := &f.Sections[i]
		if s.TypeNum == shtRel || s.TypeNum == shtRela {
			if err := f.readRelocs(i); err != nil {
				return nil, fmt.Errorf("relocation section [%d] %s: %w", i, s.Name, err)
			}
		}
	}
	return f, nil
}

// sectionData returns a section's bytes (nil for NOBITS); bounds were
// checked when the header was read.
func (f *File) sectionData(i int) []byte {
	s := &f.Sections[i]
	if s.TypeNum == shtNobits || s.TypeNum == shtNull {
		return nil
	}
	return f.data[s.Offset : s.Offset+s.Size]
}

// maxNameLen bounds symbol and section names, so that looking a name up
// costs little whatever the string table holds (PATH_MAX is 4096, and a
// section name may carry a path).
const maxNameLen = 8192

// stringAt reads a NUL-terminated string from string table section i.
// Names are substrings of one copy of the table, so a hostile table whose
// strings all overlap costs no more memory than the table itself.
func (f *File) stringAt(i int, off uint32) (string, error) {
	tab, ok := f.strtabs[i]
	if !ok {
		tab = string(f.sectionData(i))
		if f.strtabs == nil {
			f.strtabs = map[int]string{}
		}
		f.strtabs[i] = tab
	}
	if uint64(off) >= uint64(len(tab)) {
		if off == 0 && len(tab) == 0 {
			return "", nil
		}
		return "", fmt.Errorf("string offset %d is outside string table [%d] (size %d)", off, i, len(tab))
	}
	rest := tab[off:]
	if len(rest) > maxNameLen+1 {
		rest = rest[:maxNameLen+1]
	}
	j := strings.IndexByte(rest, 0)
	switch {
	case j >= 0:
		return rest[:j], nil
	case len(rest) > maxNameLen:
		return "", fmt.Errorf("string at offset %d of string table [%d] is longer than %d bytes", off, i, maxNameLen)
	}
	return "", fmt.Errorf("string at offset %d of string table [%d] is not terminated", off, i)
}

func (f *File) readSymbols(i int) error {
	s := &f.Sections[i]
	if s.EntSize != elfSymbolSize {
		return fmt.Errorf("entry size is %d, want %d", s.EntSize, elfSymbolSize)
	}
	if s.Size%elfSymbolSize != 0 {
		return fmt.Errorf("size %d is not a multiple of %d", s.Size, elfSymbolSize)
	}
	n := s.Size / elfSymbolSize
	if n > maxELFSymbols {
		return fmt.Errorf("%d symbols, more than the %d the reader accepts", n, maxELFSymbols)
	}
	link := int(s.Link)
	if s.Link == 0 || uint64(s.Link) >= uint64(len(f.Sections)) || f.Sections[link].TypeNum != shtStrtab {
		return fmt.Errorf("linked section %d is not a string table", s.Link)
	}
	f.symtab = i
	b := f.sectionData(i)
	bo := f.order
	f.Symbols = make([]Symbol, n)
	for j := range f.Symbols {
		e := b[j*elfSymbolSize:]
		sym := &f.Symbols[j]
		sym.Num = j
		nameOff := bo.Uint32(e[0:])
		sym.info = e[4]
		sym.other = e[5]
		sym.SectionIndex = bo.Uint16(e[6:])
		sym.Value = bo.Uint64(e[8:])
		sym.Size = bo.Uint64(e[16:])
		sym.Type = symbolTypeName(sym.info & 0xf)
		sym.Bind = symbolBindName(sym.info >> 4)
		sym.Visibility = symbolVisibilityName(sym.other & 3)
		sym.Ndx = symbolNdx(sym.SectionIndex)
		name, err := f.stringAt(link, nameOff)
		if err != nil {
			return fmt.Errorf("symbol %d: %w", j, err)
		}
		// readelf names section symbols after their section.
		if name == "" && sym.info&0xf == stSection && int(sym.SectionIndex) < len(f.Sections) && sym.SectionIndex < shnLoReserve {
			name = f.Sections[sym.SectionIndex].Name
		}
		sym.Name = name
	}
	return nil
}

func (f *File) readRelocs(i int) error {
	s := &f.Sections[i]
	rela := s.TypeNum == shtRela
	want := uint64(elfRelSize)
	if rela {
		want = elfRelaSize
	}
	if s.EntSize != want {
		return fmt.Errorf("entry size is %d, want %d", s.EntSize, want)
	}
	if s.Size%want != 0 {
		return fmt.Errorf("size %d is not a multiple of %d", s.Size, want)
	}
	if uint64(s.Link) >= uint64(len(f.Sections)) || int(s.Link) != f.symtab || f.symtab < 0 {
		return fmt.Errorf("linked section %d is not the symbol table", s.Link)
	}
	if uint64(s.Info) >= uint64(len(f.Sections)) {
		return fmt.Errorf("target section %d is out of range (%d sections)", s.Info, len(f.Sections))
	}
	n := s.Size / want
	total := n
	for _, r := range f.Relocations {
		total += uint64(len(r.Entries))
	}
	if total > maxELFRelocs {
		return fmt.Errorf("more than %d relocations", maxELFRelocs)
	}
	rs := RelocSection{
		Section:     s.Name,
		Index:       i,
		Offset:      s.Offset,
		Target:      f.Sections[s.Info].Name,
		TargetIndex: s.Info,
		Rela:        rela,
		Entries:     make([]Reloc, n),
	}
	b := f.sectionData(i)
	bo := f.order
	for j := range rs.Entries {
		e := b[uint64(j)*want:]
		r := &rs.Entries[j]
		r.Offset = bo.Uint64(e[0:])
		r.Info = bo.Uint64(e[8:])
		if rela {
			r.Addend = int64(bo.Uint64(e[16:]))
		}
		r.SymbolIndex = uint32(r.Info >> 32)
		r.TypeNum = uint32(r.Info)
		r.Type = relocTypeName(r.TypeNum)
		if uint64(r.SymbolIndex) >= uint64(len(f.Symbols)) {
			return fmt.Errorf("relocation %d: symbol %d is out of range (%d symbols)", j, r.SymbolIndex, len(f.Symbols))
		}
		if r.SymbolIndex != 0 {
			sym := &f.Symbols[r.SymbolIndex]
			r.Symbol = sym.Name
			r.SymbolValue = sym.Value
		}
	}
	f.Relocations = append(f.Relocations, rs)
	return nil
}

// SectionData returns the contents of the first section named name, and
// whether there is one; a section without data in the file (NOBITS) has
// none.
func (f *File) SectionData(name string) ([]byte, bool) {
	i := f.sectionByName(name)
	if i <= 0 || f.Sections[i].TypeNum == shtNobits {
		return nil, false
	}
	return f.sectionData(i), true
}

// SectionBytes returns the contents of section i (nil for NOBITS and for
// an index out of range), for readers of raw section data such as the
// text assembler's dump.
func (f *File) SectionBytes(i int) []byte {
	if i < 0 || i >= len(f.Sections) {
		return nil
	}
	return f.sectionData(i)
}

// LittleEndian reports whether the object is little-endian.
func (f *File) LittleEndian() bool { return f.order == binary.LittleEndian }
