package mapdata

import "github.com/cilium/ebpf"

// Lookup looks key up in m, described by l, and deletes it when andDelete
// is set (pop and dequeue); the key is ignored by maps without keys
// (queues, stacks).
func Lookup(m *ebpf.Map, l Layout, key []byte, andDelete bool) (*Entry, error) {
	lookup := m.Lookup
	if andDelete {
		lookup = m.LookupAndDelete
	}
	var k any
	if l.KeySize > 0 {
		k = key
	}
	e := &Entry{Key: key}
	var value any
	if IsPerCPU(l.Type) {
		e.PerCPU = make([][]byte, l.PossibleCPUs)
		for i := range e.PerCPU {
			e.PerCPU[i] = make([]byte, l.ValueSize)
		}
		value = e.PerCPU
	} else {
		e.Value = make([]byte, l.ValueSize)
		value = e.Value
	}
	if err := lookup(k, value); err != nil {
		return nil, err
	}
	return e, nil
}
