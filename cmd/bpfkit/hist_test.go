package main

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestMapDumpHist fills two log2 histogram maps, an array of counters
// indexed by slot and a hash of struct hist { __u32 slots[8]; } by pid,
// and compares `map dump ... hist` with goldens, as bars and as JSON.
func TestMapDumpHist(t *testing.T) {
	testutil.RequirePrivileged(t)
	u32 := &ebpfbtf.Int{Name: "__u32", Size: 4}
	u64 := &ebpfbtf.Int{Name: "__u64", Size: 8}
	arr, arrID := newMap(t, &ebpf.MapSpec{Name: "i13_lat_hist", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 27, Key: u32, Value: u64})
	for slot, n := range map[uint32]uint64{0: 1, 1: 3, 2: 12, 3: 40, 4: 97, 5: 61, 6: 8, 9: 2} {
		if err := arr.Put(slot, n); err != nil {
			t.Fatal(err)
		}
	}
	hist := &ebpfbtf.Struct{Name: "hist", Size: 32, Members: []ebpfbtf.Member{
		{Name: "slots", Type: &ebpfbtf.Array{Index: u32, Type: u32, Nelems: 8}},
	}}
	byPID, byPIDID := newMap(t, &ebpf.MapSpec{Name: "i13_pid_hists", Type: ebpf.Hash, KeySize: 4, ValueSize: 32, MaxEntries: 4, Key: u32, Value: hist})
	for pid, slots := range map[uint32][8]uint32{42: {0, 5, 9, 2}, 7: {1, 0, 0, 0, 0, 0, 0, 3}} {
		v := make([]byte, 32)
		for i, c := range slots {
			binary.NativeEndian.PutUint32(v[i*4:], c)
		}
		if err := byPID.Put(pid, v); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Golden(t, "hist_array.golden", []byte(mustBpfkit(t, "map", "dump", "id", itoa(arrID), "hist")))
	testutil.Golden(t, "hist_array.json.golden", []byte(mustBpfkit(t, "-p", "map", "dump", "id", itoa(arrID), "hist")))
	got := mustBpfkit(t, "map", "dump", "id", itoa(byPIDID), "hist")
	// Hash order is the kernel's: compare the two histograms as a set.
	parts := strings.Split(got, "\n\n")
	if len(parts) != 2 {
		t.Fatalf("want two histograms:\n%s", got)
	}
	if !strings.HasPrefix(parts[0], "key: 42") {
		parts[0], parts[1] = parts[1], parts[0]
	}
	testutil.Golden(t, "hist_by_pid.golden", []byte(strings.TrimRight(parts[0], "\n")+"\n\n"+strings.TrimRight(parts[1], "\n")+"\n"))

	// A map of another shape is refused, naming what a histogram is.
	_, plainID := newMap(t, &ebpf.MapSpec{Name: "i13_not_hist", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	r := bpfkit(t, "map", "dump", "id", itoa(plainID), "hist")
	if r.code == 0 || !strings.Contains(r.stderr, "i13_not_hist): not a log2 histogram: want an array map of at most 64 integer counters") {
		t.Errorf("dump hist of a hash: %+v", r)
	}
}
