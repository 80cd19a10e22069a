package mapdata

import "github.com/cilium/ebpf"

// Lookup looks key up in m, described by l, and deletes it when andDelete
// is set (pop and dequeue); the key is ignored by maps without keys
// (queues, stacks).
func Lookup(m *ebpf.Map, l Layout, key []byte, andDelete bool) (*Entry, error) {
	e := &Entry{Key: key}
	var k any
	if l.KeySize > 0 {
		k = key
	}
	if IsPerCPU(l.Type) {
		vals := make([][]byte, l.PossibleCPUs)
		for i := range vals {
			vals[i] = make([]byte, l.ValueSize)
		}
		var err error
		if andDelete {
			err = m.LookupAndDelete(k, vals)
		} else {
			err = m.Lookup(k, vals)
		}
		if err != nil {
			return nil, err
		}
		e.PerCPU = vals
		return e, nil
	}
	val := make([]byte, l.ValueSize)
	var err error
	if andDelete {
		err = m.LookupAndDelete(k, val)
	} else {
		err = m.Lookup(k, val)
	}
	if err != nil {
		return nil, err
	}
	e.Value = val
	return e, nil
}
