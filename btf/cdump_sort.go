package btf

import (
	"slices"
	"strings"
)

// bpftool 7.8 dumps a whole BTF in a sorted order, so that vmlinux.h
// changes little between kernels: by a rank of kind (anonymous enums,
// named enums, scalars, structs and unions, function prototypes behind
// typedefs, then the rest), then by a sort name (the type's name, or the
// name of what a typedef, pointer, qualifier or array leads to; the first
// enumerator of an anonymous enum), its own name, a hash of its names and
// its members' names and types, and its ID. The dumper still prints what
// each type needs before it, so the order only decides which root comes
// first.

// maxRank is the rank of everything not ranked better.
const maxRank = 10

// cOrder returns every type ID of s, void included, in the order bpftool
// walks them: BTF order, or its sorted order.
func cOrder(s *Spec, sorted bool) ([]TypeID, error) {
	n := int(s.End())
	ids := make([]TypeID, n)
	for i := range ids {
		ids[i] = TypeID(i)
	}
	if !sorted {
		return ids, nil
	}
	k := newSortKeys(s)
	keys := make([]sortKey, n)
	// Sorting moves a prefix of the key: the rank and the first 7 bytes
	// of the sort name as one number (names hold no NUL, so a
	// zero-padded prefix sorts as strcmp does), and the hash. That
	// decides most comparisons, and all of those between types whose
	// sort name fits in the prefix and that have no name of their own,
	// the largest group (anonymous prototypes, pointers, structs).
	order := make([]sortPrefix, n)
	for i := range keys {
		id := TypeID(i)
		t := s.Type(id)
		rank, err := k.rank(id)
		if err != nil {
			return nil, err
		}
		sortName, err := k.sortName(id)
		if err != nil {
			return nil, err
		}
		hash, err := k.hash(id, true)
		if err != nil {
			return nil, err
		}
		keys[i] = sortKey{sortName: sortName, ownName: t.Name}
		p := uint64(rank) << 56
		for j := 0; j < 7 && j < len(sortName); j++ {
			p |= uint64(sortName[j]) << (48 - 8*j)
		}
		order[i] = sortPrefix{prefix: p, hash: hash, id: id, short: len(sortName) <= 7 && t.Name == ""}
	}
	cmp := func(a, b sortPrefix) int {
		if a.prefix != b.prefix {
			if a.prefix < b.prefix {
				return -1
			}
			return 1
		}
		if !a.short || !b.short {
			ka, kb := &keys[a.id], &keys[b.id]
			if c := strings.Compare(ka.sortName, kb.sortName); c != 0 {
				return c
			}
			if c := strings.Compare(ka.ownName, kb.ownName); c != 0 {
				return c
			}
		}
		if a.hash != b.hash {
			if a.hash < b.hash {
				return -1
			}
			return 1
		}
		return int(a.id) - int(b.id)
	}
	order = radixSortPrefix(order)
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && order[j].prefix == order[i].prefix {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(order[i:j], cmp)
		}
		i = j
	}
	for i := range order {
		ids[i] = order[i].id
	}
	return ids, nil
}

// sortPrefix is what the sort moves: the start of the key, and the type.
type sortPrefix struct {
	prefix, hash uint64
	id           TypeID
	// short: the sort name is all in the prefix and the type has no
	// name of its own.
	short bool
}

// sortKey is the rest of a type's sort key.
type sortKey struct {
	sortName, ownName string
}

// sortKeys computes the parts of the sort key that follow references,
// each once per type: a state byte per type and part says whether it is
// done (2) or under way (1: meeting it again is a cycle, which only
// hostile BTF has; bpftool would recurse until it crashed).
type sortKeys struct {
	s *Spec
	// namedRank is the rank of a type reached from a named one (a named
	// typedef ranks as what it names).
	namedRank      []int8
	rankState      []uint8
	refName        []string // sort name of a type reached by reference
	refNameState   []uint8
	hashes         [2][]uint64 // without and with members
	hashState      [2][]uint8
	typeNameHashes []uint64
}

func newSortKeys(s *Spec) *sortKeys {
	n := int(s.End())
	return &sortKeys{
		s:            s,
		namedRank:    make([]int8, n),
		rankState:    make([]uint8, n),
		refName:      make([]string, n),
		refNameState: make([]uint8, n),
		hashes:       [2][]uint64{make([]uint64, n), make([]uint64, n)},
		hashState:    [2][]uint8{make([]uint8, n), make([]uint8, n)},
	}
}

// isRef reports whether kind leads to another type for the sort: the
// qualifiers, pointers, typedefs and declaration tags.
func isRef(k Kind) bool {
	switch k {
	case KindTypeTag, KindConst, KindPtr, KindVolatile, KindRestrict, KindTypedef, KindDeclTag:
		return true
	}
	return false
}

// rank is the rank of id at the top level.
func (k *sortKeys) rank(id TypeID) (int8, error) {
	t := k.s.Type(id)
	if t.Name != "" {
		return k.rankNamed(id)
	}
	switch t.Kind {
	case KindEnum, KindEnum64:
		return 0, nil
	case KindInt, KindFloat:
		return 2, nil
	}
	// Anonymous structs, unions, prototypes, arrays and references.
	return maxRank, nil
}

// rankNamed is the rank of id reached from a named type.
func (k *sortKeys) rankNamed(id TypeID) (int8, error) {
	switch k.rankState[id] {
	case 2:
		return k.namedRank[id], nil
	case 1:
		return 0, cycleError(id, k.s.Type(id))
	}
	k.rankState[id] = 1
	t := k.s.Type(id)
	var r int8
	switch {
	case t.Kind == KindEnum || t.Kind == KindEnum64:
		r = 1
	case t.Kind == KindInt || t.Kind == KindFloat:
		r = 2
	case t.Kind == KindStruct || t.Kind == KindUnion:
		r = 3
	case t.Kind == KindFuncProto:
		r = 4
	case t.Kind == KindArray || isRef(t.Kind):
		var err error
		if r, err = k.rankNamed(t.Type); err != nil {
			return 0, err
		}
	default:
		r = maxRank
	}
	k.namedRank[id], k.rankState[id] = r, 2
	return r, nil
}

// sortName is the sort name of id at the top level: an anonymous enum's
// is its first enumerator's name.
func (k *sortKeys) sortName(id TypeID) (string, error) {
	t := k.s.Type(id)
	switch {
	case (t.Kind == KindEnum || t.Kind == KindEnum64) && t.Name == "" && len(t.Values) > 0:
		return t.Values[0].Name, nil
	case t.Kind == KindArray || isRef(t.Kind):
		return k.refSortName(t.Type)
	}
	return t.Name, nil
}

// refSortName is the sort name of id reached from another type: the name
// at the end of its chain of references.
func (k *sortKeys) refSortName(id TypeID) (string, error) {
	switch k.refNameState[id] {
	case 2:
		return k.refName[id], nil
	case 1:
		return "", cycleError(id, k.s.Type(id))
	}
	k.refNameState[id] = 1
	t := k.s.Type(id)
	name := t.Name
	if t.Kind == KindArray || isRef(t.Kind) {
		var err error
		if name, err = k.refSortName(t.Type); err != nil {
			return "", err
		}
	}
	k.refName[id], k.refNameState[id] = name, 2
	return name, nil
}

// strHash is libbpf's str_hash: h = h*31 + c over the bytes, as signed
// chars.
func strHash(s string) uint64 {
	var h uint64
	for i := 0; i < len(s); i++ {
		h = h*31 + uint64(int64(int8(s[i])))
	}
	return h
}

// nameHash mixes a name into h; an empty name (string offset 0) leaves h
// as it is.
func nameHash(h uint64, name string) uint64 {
	if name == "" {
		return h
	}
	return h*31 + strHash(name)
}

// hash is bpftool's disambiguation hash of id: its name, an enum's
// enumerator names, with members a struct's member names and the hashes
// of their types (without members), and what references lead to.
func (k *sortKeys) hash(id TypeID, members bool) (uint64, error) {
	m := 0
	if members {
		m = 1
	}
	switch k.hashState[m][id] {
	case 2:
		return k.hashes[m][id], nil
	case 1:
		return 0, cycleError(id, k.s.Type(id))
	}
	k.hashState[m][id] = 1
	t := k.s.Type(id)
	h := nameHash(0, t.Name)
	switch {
	case t.Kind == KindEnum || t.Kind == KindEnum64:
		for i := range t.Values {
			h = nameHash(h, t.Values[i].Name)
		}
	case t.Kind == KindStruct || t.Kind == KindUnion:
		if !members {
			break
		}
		for i := range t.Members {
			h = nameHash(h, t.Members[i].Name)
			mh, err := k.hash(t.Members[i].Type, false)
			if err != nil {
				return 0, err
			}
			h = h*31 + mh
		}
	case isRef(t.Kind):
		th, err := k.hash(t.Type, members)
		if err != nil {
			return 0, err
		}
		h = h*31 + th
	case t.Kind == KindArray:
		h = h*31 + uint64(t.Nelems)
		th, err := k.hash(t.Type, members)
		if err != nil {
			return 0, err
		}
		h = h*31 + th
	}
	k.hashes[m][id], k.hashState[m][id] = h, 2
	return h, nil
}

// radixSortPrefix sorts by prefix, stably: a least significant digit
// radix sort, a byte at a time, skipping bytes that all share.
func radixSortPrefix(a []sortPrefix) []sortPrefix {
	tmp := make([]sortPrefix, len(a))
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for i := range a {
			count[byte(a[i].prefix>>shift)]++
		}
		if count[byte(a[0].prefix>>shift)] == len(a) {
			continue
		}
		pos := 0
		for b := range count {
			c := count[b]
			count[b] = pos
			pos += c
		}
		for i := range a {
			b := byte(a[i].prefix >> shift)
			tmp[count[b]] = a[i]
			count[b]++
		}
		a, tmp = tmp, a
	}
	return a
}
