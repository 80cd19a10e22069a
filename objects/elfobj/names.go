package elfobj

import "fmt"

// Names for ELF header values, spelled as readelf spells them, except
// where LLVM's tools know better (LLVM section types, BPF relocations).

var sectionTypeNames = map[uint32]string{
	0: "NULL", 1: "PROGBITS", 2: "SYMTAB", 3: "STRTAB", 4: "RELA", 5: "HASH",
	6: "DYNAMIC", 7: "NOTE", 8: "NOBITS", 9: "REL", 10: "SHLIB", 11: "DYNSYM",
	14: "INIT_ARRAY", 15: "FINI_ARRAY", 16: "PREINIT_ARRAY", 17: "GROUP",
	18: "SYMTAB SECTION INDICES", 19: "RELR",
	0x6ffffff5: "GNU_ATTRIBUTES", 0x6ffffff6: "GNU_HASH",
	0x6ffffff7: "GNU_LIBLIST", 0x6ffffffd: "VERDEF", 0x6ffffffe: "VERNEED",
	0x6fffffff: "VERSYM",
	// LLVM's section types (llvm/BinaryFormat/ELF.h), as llvm-readelf
	// prints them; binutils readelf shows these as LOOS+0xfff4cNN.
	0x6fff4c00: "LLVM_ODRTAB", 0x6fff4c01: "LLVM_LINKER_OPTIONS",
	0x6fff4c03: "LLVM_ADDRSIG",
	0x6fff4c04: "LLVM_DEPENDENT_LIBRARIES", 0x6fff4c05: "LLVM_SYMPART",
	0x6fff4c06: "LLVM_PART_EHDR", 0x6fff4c07: "LLVM_PART_PHDR",
	0x6fff4c08: "LLVM_BB_ADDR_MAP_V0", 0x6fff4c09: "LLVM_CALL_GRAPH_PROFILE",
	0x6fff4c0a: "LLVM_BB_ADDR_MAP", 0x6fff4c0b: "LLVM_OFFLOADING",
	0x6fff4c0c: "LLVM_LTO",
}

// sectionTypeName names a section type; unknown values are written the
// way readelf writes them.
func sectionTypeName(t uint32) string {
	if n, ok := sectionTypeNames[t]; ok {
		return n
	}
	switch {
	case t >= 0x70000000 && t <= 0x7fffffff:
		return fmt.Sprintf("LOPROC+0x%x", t-0x70000000)
	case t >= 0x60000000 && t <= 0x6fffffff:
		return fmt.Sprintf("LOOS+0x%x", t-0x60000000)
	case t >= 0x80000000:
		return fmt.Sprintf("LOUSER+0x%x", t-0x80000000)
	}
	return fmt.Sprintf("%08x: <unknown>", t)
}

// sectionFlagLetters gives readelf -S -W's flag letters, lowest bit first.
func sectionFlagLetters(flags uint64) string {
	var out []byte
	for flags != 0 {
		bit := flags & -flags
		flags &^= bit
		var c byte
		switch bit {
		case 0x1:
			c = 'W'
		case 0x2:
			c = 'A'
		case 0x4:
			c = 'X'
		case 0x10:
			c = 'M'
		case 0x20:
			c = 'S'
		case 0x40:
			c = 'I'
		case 0x80:
			c = 'L'
		case 0x100:
			c = 'O'
		case 0x200:
			c = 'G'
		case 0x400:
			c = 'T'
		case 0x800:
			c = 'C'
		case 0x200000:
			c = 'R'
		case 0x80000000:
			c = 'E'
		default:
			switch {
			case bit&0x0ff00000 != 0:
				c = 'o'
			case bit&0xf0000000 != 0:
				c = 'p'
			default:
				c = 'x'
			}
		}
		// readelf prints each of o, p and x once.
		if (c == 'o' || c == 'p' || c == 'x') && containsByte(out, c) {
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func symbolTypeName(t uint8) string {
	switch t {
	case 0:
		return "NOTYPE"
	case 1:
		return "OBJECT"
	case 2:
		return "FUNC"
	case 3:
		return "SECTION"
	case 4:
		return "FILE"
	case 5:
		return "COMMON"
	case 6:
		return "TLS"
	case 10:
		return "IFUNC"
	}
	if t >= 13 {
		return fmt.Sprintf("<processor specific>: %d", t)
	}
	return fmt.Sprintf("<OS specific>: %d", t)
}

func symbolBindName(b uint8) string {
	switch b {
	case 0:
		return "LOCAL"
	case 1:
		return "GLOBAL"
	case 2:
		return "WEAK"
	case 10:
		return "UNIQUE"
	}
	if b >= 13 {
		return fmt.Sprintf("<processor specific>: %d", b)
	}
	if b >= 10 {
		return fmt.Sprintf("<OS specific>: %d", b)
	}
	return fmt.Sprintf("<unknown>: %d", b)
}

func symbolVisibilityName(v uint8) string {
	return [...]string{"DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED"}[v&3]
}

// symbolNdx is readelf's Ndx column.
func symbolNdx(i uint16) string {
	switch {
	case i == 0:
		return "UND"
	case i == 0xfff1:
		return "ABS"
	case i == 0xfff2:
		return "COM"
	case i >= 0xff00 && i <= 0xff1f:
		return fmt.Sprintf("PRC[0x%04x]", i)
	case i >= 0xff20 && i <= 0xff3f:
		return fmt.Sprintf("OS [0x%04x]", i)
	case i >= 0xff00:
		return fmt.Sprintf("RSV[0x%04x]", i)
	}
	return fmt.Sprintf("%d", i)
}

// relocTypeName gives LLVM's names for BPF relocations (binutils readelf
// still calls them R_BPF_INSN_64, R_BPF_INSN_32, R_BPF_INSN_16,
// R_BPF_INSN_DISP16 and R_BPF_INSN_DISP32).
func relocTypeName(t uint32) string {
	switch t {
	case 0:
		return "R_BPF_NONE"
	case 1:
		return "R_BPF_64_64"
	case 2:
		return "R_BPF_64_ABS64"
	case 3:
		return "R_BPF_64_ABS32"
	case 4:
		return "R_BPF_64_NODYLD32"
	case 10:
		return "R_BPF_64_32"
	}
	return fmt.Sprintf("unrecognized: %x", t)
}

func machineName(m uint16) string {
	switch m {
	case 3:
		return "Intel 80386"
	case 8:
		return "MIPS"
	case 20:
		return "PowerPC"
	case 21:
		return "PowerPC64"
	case 22:
		return "IBM S/390"
	case 40:
		return "ARM"
	case 62:
		return "x86-64"
	case 183:
		return "AArch64"
	case 243:
		return "RISC-V"
	case 258:
		return "LoongArch"
	}
	return fmt.Sprintf("machine %d", m)
}

func elfTypeName(t uint16) string {
	switch t {
	case 0:
		return "NONE"
	case 1:
		return "REL"
	case 2:
		return "EXEC"
	case 3:
		return "DYN"
	case 4:
		return "CORE"
	}
	return fmt.Sprintf("%d", t)
}
