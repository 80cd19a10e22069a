package objects

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// KernelSym is one line of /proc/kallsyms.
type KernelSym struct {
	Addr   uint64
	Type   byte
	Name   string
	Module string
}

// Kallsyms is a snapshot of the kernel symbol table, sorted by address, with
// the address of __bpf_call_base that translated BPF calls are relative to.
// Symbols at address zero (hidden by kptr_restrict) are dropped.
type Kallsyms struct {
	syms     []KernelSym
	callBase uint64
}

// LoadKallsyms reads /proc/kallsyms. Without root, or with kptr_restrict in
// effect, every address reads as zero and the table is empty.
func LoadKallsyms() (*Kallsyms, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil, fmt.Errorf("load kallsyms: %w", err)
	}
	defer f.Close()
	return ParseKallsyms(f)
}

// ParseKallsyms parses text in the /proc/kallsyms format:
// "ffffffff814cc810 T __bpf_call_base" with an optional "\t[module]".
func ParseKallsyms(r io.Reader) (*Kallsyms, error) {
	k := &Kallsyms{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || len(fields[1]) != 1 {
			continue
		}
		addr, err := strconv.ParseUint(fields[0], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("parse kallsyms: bad address %q", fields[0])
		}
		sym := KernelSym{Addr: addr, Type: fields[1][0], Name: fields[2]}
		if len(fields) > 3 {
			sym.Module = strings.Trim(fields[3], "[]")
		}
		if sym.Name == "__bpf_call_base" && k.callBase == 0 {
			k.callBase = addr
		}
		if addr != 0 {
			k.syms = append(k.syms, sym)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse kallsyms: %w", err)
	}
	// A stable sort keeps file order among aliases, like glibc's merge-sort
	// qsort that bpftool relies on.
	sort.SliceStable(k.syms, func(i, j int) bool { return k.syms[i].Addr < k.syms[j].Addr })
	return k, nil
}

// Len returns the number of symbols with a non-zero address.
func (k *Kallsyms) Len() int { return len(k.syms) }

// CallBase returns the address of __bpf_call_base, or 0 when it is unknown.
func (k *Kallsyms) CallBase() uint64 { return k.callBase }

// Lookup returns the name of the symbol at exactly addr. Among aliases it
// picks the one a classic binary search probes first, which is the one
// bpftool prints.
func (k *Kallsyms) Lookup(addr uint64) (string, bool) {
	lo, hi := 0, len(k.syms)
	for lo < hi {
		mid := (lo + hi) / 2
		switch a := k.syms[mid].Addr; {
		case addr < a:
			hi = mid
		case addr > a:
			lo = mid + 1
		default:
			return k.syms[mid].Name, true
		}
	}
	return "", false
}

// Nearest returns the symbol at or below addr and the distance from it.
func (k *Kallsyms) Nearest(addr uint64) (KernelSym, uint64, bool) {
	i := sort.Search(len(k.syms), func(i int) bool { return k.syms[i].Addr > addr })
	if i == 0 {
		return KernelSym{}, 0, false
	}
	s := k.syms[i-1]
	return s, addr - s.Addr, true
}
