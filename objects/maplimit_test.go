package objects

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// TestListMapsOverFileLimit: listing every map holds one descriptor at a
// time, so it works with more maps than the process may still open (a
// machine with 20,000 maps and a limit of 20,000 files).
func TestListMapsOverFileLimit(t *testing.T) {
	testutil.RequirePrivileged(t)
	want := map[uint32]bool{}
	for range 64 {
		m := testutil.NewMap(t, &ebpf.MapSpec{Name: "i11_fdlimit", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
		id, err := Maps.ID(m)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = true
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var saved unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	// Room for a few more files, not for 64 more maps.
	low := saved
	low.Cur = uint64(len(fds) + 16)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	all, err := Maps.Describe(Selector{})
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatalf("with %d files allowed: %v", low.Cur, err)
	}
	for _, m := range all {
		if want[m.ID] && m.Name == "i11_fdlimit" && m.MaxEntries == 1 && m.BytesMemlock != nil {
			delete(want, m.ID)
		}
	}
	if len(want) != 0 {
		t.Errorf("%d of the test's 64 maps not listed: %v", len(want), want)
	}
}
