package objects

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestDescribePrograms: every program is described, in increasing id
// order, as Programs.Describe describes it; the cache then knows the
// programs loaded, gives the same name and memlock the next time, and
// forgets a program once it is unloaded.
func TestDescribePrograms(t *testing.T) {
	testutil.RequirePrivileged(t)
	spec := &ebpf.ProgramSpec{Name: "i11_cache", Type: ebpf.SocketFilter, License: "GPL", Instructions: testutil.ReturnZero()}
	kept := testutil.NewProgram(t, spec)
	gone, err := ebpf.NewProgram(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	keptID, err := Programs.ID(kept)
	if err != nil {
		t.Fatal(err)
	}
	goneID, err := Programs.ID(gone)
	if err != nil {
		t.Fatal(err)
	}
	var cache ProgramCache
	find := func(progs []*ProgramInfo, id uint32) *ProgramInfo {
		for i, p := range progs {
			if i > 0 && progs[i-1].ID >= p.ID {
				t.Fatalf("ids out of order: %d then %d", progs[i-1].ID, p.ID)
			}
			if p.ID == id {
				return p
			}
		}
		return nil
	}
	first, err := DescribePrograms(&cache)
	if err != nil {
		t.Fatal(err)
	}
	want, err := DescribeProgram(kept)
	if err != nil {
		t.Fatal(err)
	}
	got := find(first, keptID)
	if got == nil || find(first, goneID) == nil {
		t.Fatalf("programs %d and %d not both described", keptID, goneID)
	}
	if got.Name != "i11_cache" || got.BytesMemlock == nil || *got.BytesMemlock != *want.BytesMemlock || got.Tag != want.Tag {
		t.Errorf("described %+v, want %+v", got, want)
	}
	if !cached(&cache, keptID) || !cached(&cache, goneID) {
		t.Errorf("the cache does not know programs %d and %d", keptID, goneID)
	}
	second, err := DescribePrograms(&cache)
	if err != nil {
		t.Fatal(err)
	}
	if again := find(second, keptID); again == nil || again.Name != got.Name || *again.BytesMemlock != *got.BytesMemlock {
		t.Errorf("from the cache: %+v, want %+v", again, got)
	}
	gone.Close()
	for range 100 {
		progs, err := DescribePrograms(&cache)
		if err != nil {
			t.Fatal(err)
		}
		if find(progs, goneID) == nil {
			break
		}
	}
	if cached(&cache, goneID) || !cached(&cache, keptID) {
		t.Errorf("after %d was unloaded the cache knows it: %v, and %d: %v", goneID, cached(&cache, goneID), keptID, cached(&cache, keptID))
	}
	if find(mustDescribe(t, &cache), keptID) == nil {
		t.Errorf("program %d gone", keptID)
	}
}

func mustDescribe(t *testing.T, c *ProgramCache) []*ProgramInfo {
	t.Helper()
	progs, err := DescribePrograms(c)
	if err != nil {
		t.Fatal(err)
	}
	return progs
}

// cached reports whether c knows a program with id.
func cached(c *ProgramCache, id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.id == id {
			return true
		}
	}
	return false
}
