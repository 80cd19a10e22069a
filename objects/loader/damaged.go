package loader

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/bpfkit/bpfkit/internal/infile"
	"sort"

	"github.com/bpfkit/bpfkit/objects/elfobj"
	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"
)

// checkBTF encodes the BTF of every map and program of spec as
// cilium/ebpf does before it hands them to the kernel (map key and value
// types, function and line infos), so that BTF the kernel would never
// see whole fails here, as one error wrapping elfobj.ErrDamagedBTF: on
// damaged BTF cilium/ebpf v0.22 can panic in these steps ("don't know how
// to walk Type <nil>"), which checkBTF recovers.
func checkBTF(spec *ebpf.CollectionSpec) (err error) {
	what := ""
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", elfobj.ErrDamagedBTF, what, r)
		}
	}()
	for _, name := range sortedKeys(spec.Maps) {
		ms := spec.Maps[name]
		if ms.Key == nil && ms.Value == nil {
			continue
		}
		what = "map " + name
		b, err := ebpfbtf.NewBuilder(nil, nil)
		if err != nil {
			return err
		}
		for _, t := range []ebpfbtf.Type{ms.Key, ms.Value} {
			if t == nil {
				continue
			}
			if _, err := b.Add(t); err != nil {
				return fmt.Errorf("%w: %s: %w", elfobj.ErrDamagedBTF, what, err)
			}
		}
		if _, err := b.Marshal(nil, nil); err != nil {
			return fmt.Errorf("%w: %s: %w", elfobj.ErrDamagedBTF, what, err)
		}
	}
	for _, name := range sortedKeys(spec.Programs) {
		ps := spec.Programs[name]
		what = "program " + name
		b, err := ebpfbtf.NewBuilder(nil, nil)
		if err != nil {
			return err
		}
		if _, _, err := ebpfbtf.MarshalExtInfos(ps.Instructions, b); err != nil {
			return fmt.Errorf("%w: %s: %w", elfobj.ErrDamagedBTF, what, err)
		}
		if _, err := b.Marshal(nil, nil); err != nil {
			return fmt.Errorf("%w: %s: %w", elfobj.ErrDamagedBTF, what, err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// loadKernelBTF reads a kernel_btf file (raw BTF or an ELF file with
// .BTF) through infile, bounded and never blocking, and parses it with
// cilium/ebpf, whose panics become an error.
func loadKernelBTF(path string) (spec *ebpfbtf.Spec, err error) {
	data, err := infile.Read(path, infile.Limits{What: "a BTF file", Header: 4, Check: func(head []byte) error {
		if len(head) < 4 || (string(head) != "\x7fELF" && string(head[:2]) != "\x9f\xeb" && string(head[:2]) != "\xeb\x9f") {
			return errors.New("neither raw BTF nor an ELF file (bad magic)")
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			spec, err = nil, fmt.Errorf("BTF is damaged: cilium/ebpf failed reading it: %v", r)
		}
	}()
	return ebpfbtf.LoadSpecFromReader(bytes.NewReader(data))
}

// newCollection is ebpf.NewCollectionWithOptions with its panics turned
// into an error wrapping elfobj.ErrDamagedBTF. cilium/ebpf closes what it
// made on the way out of a panic (its clean-up is deferred).
func newCollection(spec *ebpf.CollectionSpec, opts ebpf.CollectionOptions) (coll *ebpf.Collection, err error) {
	defer func() {
		if r := recover(); r != nil {
			coll, err = nil, fmt.Errorf("%w: cilium/ebpf failed loading it: %v", elfobj.ErrDamagedBTF, r)
		}
	}()
	return ebpf.NewCollectionWithOptions(spec, opts)
}
