package mapdata

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/btf"
)

// ElemParts says which parts of bpftool's element syntax a verb takes.
type ElemParts struct {
	Key      bool // a key is required
	OptKey   bool // a key may be given (getnext)
	Value    bool // a value is required
	Flags    bool // any|exist|noexist may be given
	KeyName  string
	NoTyped  bool // accept raw bytes only
	ValueRef bool // the value names a map or program (maps of maps, prog arrays)
}

// ElemInput is a parsed `key DATA value DATA [any|exist|noexist]`.
type ElemInput struct {
	Key      []byte
	HasKey   bool
	Value    []byte // one value; per-CPU maps copy it to every CPU
	HasValue bool
	// ValueRef holds the two selector words (`id 5`, `pinned PATH`, `name
	// N`, `tag T`) of a map or program value for maps of maps and prog
	// arrays; the caller opens it and stores its fd.
	ValueRef []string
	Flags    ebpf.MapUpdateFlags
}

// isPrefix is bpftool's is_prefix: word is a non-empty prefix of kw.
func isPrefix(word, kw string) bool {
	return word != "" && strings.HasPrefix(kw, word)
}

// ParseElem parses bpftool's DATA syntax for the map described by l:
//
//	key [hex] BYTES  value [hex] BYTES  [any|exist|noexist]
//
// in any order. BYTES are one byte per word, strtoul-style (12, 0x0c,
// 014) or hex after `hex`. Where the map has BTF, a key or value may
// instead be one typed word: `key 42` for a u32 key, `value RED` for an
// enum, `value '{"a":1,"b":"x"}'` for a struct. Every error names the
// expected size or type.
func ParseElem(words []string, l Layout, parts ElemParts) (*ElemInput, error) {
	in := &ElemInput{}
	needKey, needValue, allowFlags := parts.Key || parts.OptKey, parts.Value, parts.Flags
	for len(words) > 0 {
		w := words[0]
		switch {
		case isPrefix(w, "key"):
			if !needKey {
				if in.HasKey {
					return nil, fmt.Errorf("duplicate key")
				}
				return nil, fmt.Errorf("unnecessary key")
			}
			b, rest, err := parseData(words[1:], "key", int(l.KeySize), l.KeyType, parts.NoTyped)
			if err != nil {
				return nil, err
			}
			in.Key, in.HasKey, needKey = b, true, false
			words = rest
		case isPrefix(w, "value"):
			if !needValue {
				if in.HasValue {
					return nil, fmt.Errorf("duplicate value")
				}
				return nil, fmt.Errorf("unnecessary value")
			}
			words = words[1:]
			if parts.ValueRef || IsMapOfMaps(l.Type) || l.Type == ebpf.ProgramArray {
				if l.ValueSize != 4 {
					return nil, fmt.Errorf("value smaller than 4B for map in map?")
				}
				if len(words) < 2 {
					what := "map in map"
					if l.Type == ebpf.ProgramArray {
						what = "prog array"
					}
					return nil, fmt.Errorf("not enough value arguments for %s", what)
				}
				in.ValueRef = words[:2]
				words = words[2:]
			} else {
				b, rest, err := parseData(words, "value", int(l.ValueSize), l.ValueType, parts.NoTyped)
				if err != nil {
					return nil, err
				}
				in.Value = b
				words = rest
			}
			in.HasValue, needValue = true, false
		case isPrefix(w, "any") || isPrefix(w, "noexist") || isPrefix(w, "exist"):
			if !allowFlags {
				if parts.Flags {
					return nil, fmt.Errorf("flags specified multiple times: %s", w)
				}
				return nil, fmt.Errorf("unexpected flag: %s", w)
			}
			switch {
			case isPrefix(w, "any"):
				in.Flags = ebpf.UpdateAny
			case isPrefix(w, "noexist"):
				in.Flags = ebpf.UpdateNoExist
			default:
				in.Flags = ebpf.UpdateExist
			}
			allowFlags = false
			words = words[1:]
		default:
			return nil, fmt.Errorf("expected key or value, got: %s", w)
		}
	}
	if parts.Key && !in.HasKey {
		return nil, fmt.Errorf("did not find key")
	}
	if parts.Value && !in.HasValue {
		return nil, fmt.Errorf("did not find value")
	}
	return in, nil
}

// parseByte is strtoul(word, base) limited to one byte.
func parseByte(word string, base int) (byte, bool) {
	if word == "" {
		return 0, false
	}
	s := word
	hasHex := strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")
	switch {
	case base == 16 || (base == 0 && hasHex):
		if hasHex {
			s = s[2:]
		}
		base = 16
	case base == 0 && len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	case base == 0:
		base = 10
	}
	// An explicit base, as strtoul has: Go's base 0 would also take
	// 0b1, 0o7 and 1_0, which bpftool refuses.
	v, err := strconv.ParseUint(s, base, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

// parseData reads the bytes of a key or value from words and returns the
// remaining words.
func parseData(words []string, name string, size int, typ ebpfbtf.Type, noTyped bool) ([]byte, []string, error) {
	if len(words) > 0 && isPrefix(words[0], "hex") {
		words = words[1:]
		buf := make([]byte, size)
		i := 0
		for ; i < size && i < len(words); i++ {
			b, ok := parseByte(words[i], 16)
			if !ok {
				return nil, nil, fmt.Errorf("error parsing byte: %s", words[i])
			}
			buf[i] = b
		}
		if i != size {
			return nil, nil, fmt.Errorf("%s expected %d bytes got %d", name, size, i)
		}
		return buf, words[size:], nil
	}
	// bpftool's form: exactly size byte words.
	buf := make([]byte, size)
	i := 0
	for ; i < size && i < len(words); i++ {
		b, ok := parseByte(words[i], 0)
		if !ok {
			break
		}
		buf[i] = b
	}
	if i == size {
		return buf, words[size:], nil
	}
	// A typed word, where the map has BTF.
	if typ != nil && !noTyped && len(words) > 0 {
		b, err := btf.ParseValue(typ, words[0])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v (expected %s, or %d bytes)", name, err, btf.TypeName(typ), size)
		}
		if len(b) != size {
			return nil, nil, fmt.Errorf("%s: type %s is %d bytes, the map's %s is %d bytes", name, btf.TypeName(typ), len(b), name, size)
		}
		return b, words[1:], nil
	}
	if i < len(words) && i < size && !isKeyword(words[i]) {
		return nil, nil, fmt.Errorf("error parsing byte: %s", words[i])
	}
	return nil, nil, fmt.Errorf("%s expected %d bytes got %d", name, size, i)
}

func isKeyword(w string) bool {
	for _, k := range []string{"key", "value", "any", "exist", "noexist"} {
		if isPrefix(w, k) {
			return true
		}
	}
	return false
}

// PerCPUValue returns v copied for each of n CPUs, as bpftool's
// fill_per_cpu_value does, in the form cilium/ebpf's Update takes.
func PerCPUValue(v []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = v
	}
	return out
}
