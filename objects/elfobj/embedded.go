package elfobj

import (
	"bytes"
	"errors"
)

// Embedding says where a BPF object was found inside another file: a
// libbpf skeleton (the libbpf-tools binaries, say) or a bpf2go program
// carries its object as bytes.
type Embedding struct {
	// Offset and Size locate the object in the file.
	Offset uint64 `json:"offset"`
	Size   uint64 `json:"size"`
	// Count is how many BPF objects the file embeds; the first is read.
	Count int `json:"count"`
}

// maxEmbedded bounds how many embedded objects are looked for, and
// maxEmbeddedTries how many candidates are parsed (each may cost a parse
// of up to the rest of the file).
const (
	maxEmbedded      = 64
	maxEmbeddedTries = 256
)

// FindEmbedded lists the BPF objects embedded in data (offset and
// size of each), in file order. Only objects that parse are listed.
func FindEmbedded(data []byte) []Embedding {
	var found []Embedding
	tries := 0
	for off := 1; off < len(data) && len(found) < maxEmbedded && tries < maxEmbeddedTries; {
		i := bytes.Index(data[off:], []byte("\x7fELF"))
		if i < 0 {
			break
		}
		start := off + i
		off = start + 1
		size, ok := embeddedSize(data[start:])
		if !ok {
			continue
		}
		tries++
		if _, err := parseELF(data[start : start+size]); err != nil {
			continue
		}
		found = append(found, Embedding{Offset: uint64(start), Size: uint64(size)})
		off = start + size
	}
	for i := range found {
		found[i].Count = len(found)
	}
	return found
}

// embeddedSize works out how long the BPF object at the start of b is: up
// to the end of its section header table or of its last section,
// whichever comes later.
func embeddedSize(b []byte) (int, bool) {
	if len(b) < elfHeaderSize || b[4] != 2 || (b[5] != 1 && b[5] != 2) {
		return 0, false
	}
	f := &File{}
	if b[5] == 1 {
		f.order = littleEndian
	} else {
		f.order = bigEndian
	}
	bo := f.order
	if bo.Uint16(b[18:]) != emBPF || bo.Uint16(b[16:]) != etRel || bo.Uint16(b[58:]) != elfSectionSize {
		return 0, false
	}
	shoff := bo.Uint64(b[40:])
	shnum := uint64(bo.Uint16(b[60:]))
	size := uint64(len(b))
	if shnum == 0 || shoff > size || (size-shoff)/elfSectionSize < shnum {
		return 0, false
	}
	end := shoff + shnum*elfSectionSize
	for i := uint64(1); i < shnum; i++ {
		h := b[shoff+i*elfSectionSize:]
		typ, off, sz := bo.Uint32(h[4:]), bo.Uint64(h[24:]), bo.Uint64(h[32:])
		if typ == shtNobits || typ == shtNull {
			continue
		}
		if off > size || sz > size-off {
			return 0, false
		}
		if off+sz > end {
			end = off + sz
		}
	}
	return int(end), true
}

// readEmbedded reads the first BPF object embedded in a file that is an
// ELF file for another machine.
func readEmbedded(data []byte, err error) (*File, error) {
	if !errors.Is(err, ErrNotBPF) {
		return nil, err
	}
	found := FindEmbedded(data)
	if len(found) == 0 {
		return nil, err
	}
	e := found[0]
	f, perr := read(data[e.Offset : e.Offset+e.Size])
	if perr != nil {
		return nil, err
	}
	f.Embedded = &e
	return f, nil
}
