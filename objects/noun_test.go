package objects

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestListOnEveryCPU: a listing long enough to be described on several
// CPUs holds every object once, in increasing id order, each described as
// it is alone; ids that name nothing are skipped.
func TestListOnEveryCPU(t *testing.T) {
	testutil.RequirePrivileged(t)
	const n = 5 * chunkIDs
	made := map[uint32]*ebpf.Map{}
	for i := range n {
		m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "i15_par", Type: ebpf.Array, KeySize: 4, ValueSize: uint32(8 * (1 + i%4)), MaxEntries: uint32(1 + i)})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		id, err := Maps.ID(m)
		if err != nil {
			t.Fatal(err)
		}
		made[id] = m
	}
	infos, err := Maps.Describe(Selector{Kind: SelectAll})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i, info := range infos {
		if i > 0 && infos[i-1].ID >= info.ID {
			t.Fatalf("ids out of order: %d then %d", infos[i-1].ID, info.ID)
		}
		m, ok := made[info.ID]
		if !ok {
			continue
		}
		found++
		alone, err := DescribeMap(m)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(info, alone) {
			t.Errorf("map %d listed as %+v, alone %+v", info.ID, info, alone)
		}
	}
	if found != n {
		t.Errorf("%d of the %d maps made listed", found, n)
	}

	// Ids of no map among real ones: skipped, the rest kept in order.
	var ids []uint32
	for id := range made {
		ids = append(ids, id, 0xfffffff0-id)
	}
	got, err := describeChunk("map", unix.BPF_MAP_GET_FD_BY_ID, ids, Maps.describer(len(ids)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d maps described, want %d", len(got), n)
	}
	for i, info := range got {
		if info.ID != ids[2*i] {
			t.Fatalf("description %d is of map %d, want %d", i, info.ID, ids[2*i])
		}
	}
}

// TestListOpenFails: an id the kernel refuses to open for another reason
// than its absence ends the listing with an error naming the first such
// id.
func TestListOpenFails(t *testing.T) {
	ids := make([]uint32, 2*chunkIDs)
	for i := range ids {
		ids[i] = uint32(i + 1)
	}
	// 0xffff is no bpf(2) command: every open fails with EINVAL.
	_, err := describeChunk("map", 0xffff, ids, Maps.describer(len(ids)))
	if err == nil || errors.Is(err, unix.ENOENT) || !strings.HasPrefix(err.Error(), "open map 1: ") {
		t.Fatalf("error %v, want one about opening map 1 that is not ENOENT", err)
	}
}

// TestSelectByNameHoldsOnlyMatches: a name selector walks every object but
// keeps open only those it matches, so it works with more objects than
// the process may open files.
func TestSelectByNameHoldsOnlyMatches(t *testing.T) {
	dir := testutil.PinDir(t)
	const n = 200
	for i := range n {
		name := "i15_many"
		if i == n/2 {
			name = "i15_the_one"
		}
		m, err := ebpf.NewMap(&ebpf.MapSpec{Name: name, Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
		if err != nil {
			t.Fatal(err)
		}
		err = m.Pin(filepath.Join(dir, fmt.Sprint(i)))
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	low := old
	low.Cur = uint64(len(entries) + n/4) // far fewer than the maps
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	maps, err := Maps.Open(Selector{Kind: SelectName, Value: "i15_the_one"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(maps)
	if len(maps) != 1 {
		t.Fatalf("%d maps named i15_the_one", len(maps))
	}
}
