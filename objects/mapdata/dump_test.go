package mapdata

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/cilium/ebpf"
)

func TestDumpRefusesRingbuf(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, spec := range []*ebpf.MapSpec{
		{Name: "rb", Type: ebpf.RingBuf, MaxEntries: 4096},
		{Name: "q", Type: ebpf.Queue, ValueSize: 4, MaxEntries: 4},
		{Name: "pea", Type: ebpf.PerfEventArray},
	} {
		m, err := ebpf.NewMap(spec)
		if err != nil {
			t.Fatal(err)
		}
		err = Dump(m, nil, func(*Entry) error { return nil })
		m.Close()
		if err == nil || !strings.Contains(err.Error(), "cannot be dumped") {
			t.Errorf("%s: got %v, want a clear error", spec.Name, err)
		}
	}
}

// TestDumpWhileChanging dumps a hash map that another goroutine keeps
// changing: the batched dump must end and list no key twice.
func TestDumpWhileChanging(t *testing.T) {
	testutil.RequirePrivileged(t)
	const n = 20000
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "bpfkit_t_churn", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: n})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	keys := make([]uint32, n/2)
	vals := make([]uint64, n/2)
	for i := range keys {
		keys[i] = uint32(i)
	}
	if _, err := m.BatchUpdate(keys, vals, nil); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := i % (n / 2)
			m.Delete(k)
			m.Put(k, uint64(i))
			m.Put(n/2+i%(n/2), uint64(i))
			m.Delete(n/2 + (i+7)%(n/2))
		}
	}()
	defer func() { close(stop); <-done }()
	for round := 0; round < 5; round++ {
		seen := map[uint32]bool{}
		err := Dump(m, &DumpOptions{BatchSize: 64}, func(e *Entry) error {
			k := binary.LittleEndian.Uint32(e.Key)
			if seen[k] {
				return fmt.Errorf("key %d listed twice", k)
			}
			seen[k] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBatchSizeBounded checks that large values shrink the batch.
func TestBatchSizeBounded(t *testing.T) {
	testutil.RequirePrivileged(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "bpfkit_t_big", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 32768, MaxEntries: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d, err := newDumper(m, &DumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if per := (4 + 32768*d.ncpu); d.batch0*per > maxBatchBytes {
		t.Errorf("batch of %d elements of %d bytes exceeds %d bytes", d.batch0, per, maxBatchBytes)
	}
	n := 0
	if err := Dump(m, nil, func(*Entry) error { n++; return nil }); err != nil || n != 8 {
		t.Errorf("dump: %d entries, %v", n, err)
	}
}
