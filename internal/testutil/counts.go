package testutil

import (
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// nextIDCommands are the bpf(2) GET_NEXT_ID commands by object kind.
var nextIDCommands = map[string]uintptr{
	"prog": unix.BPF_PROG_GET_NEXT_ID,
	"map":  unix.BPF_MAP_GET_NEXT_ID,
	"link": unix.BPF_LINK_GET_NEXT_ID,
}

// IDGone waits up to wait for the kernel to free the "prog", "map" or
// "link" with id, and reports whether it did. It reads the id list and
// never opens the object: an open reference would keep it alive (and a
// prog_array opened while the kernel empties it can stay allocated).
// The kernel frees a program's maps after an RCU grace period, hence the
// wait.
func IDGone(kind string, id uint32, wait time.Duration) bool {
	cmd, ok := nextIDCommands[kind]
	if !ok {
		panic("testutil.IDGone: unknown kind " + kind)
	}
	deadline := time.Now().Add(wait)
	for {
		attr := struct{ StartID, NextID, OpenFlags uint32 }{StartID: id - 1}
		_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		if errno != 0 || attr.NextID != id {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AssertGone fails the test unless the kernel frees every object in ids
// ("prog", "map" or "link" to IDs) within five seconds each (see IDGone):
// the exact check that an unload, an ended run or a removed pin left
// nothing behind.
func AssertGone(tb testing.TB, ids map[string][]uint32) {
	tb.Helper()
	for kind, list := range ids {
		for _, id := range list {
			if !IDGone(kind, id, 5*time.Second) {
				tb.Errorf("%s %d is still loaded", kind, id)
			}
		}
	}
}

// Counts are numbers of kernel objects by kind.
type Counts struct{ Progs, Maps, Links int }

// lastIDs are the highest program and map ids when the test binary
// started: the kernel gives ids in increasing order, so objects with
// higher ids were made after it started.
var lastIDs = func() (ids struct{ prog, mapID uint32 }) {
	for id, err := ebpf.ProgramGetNextID(0); err == nil; id, err = ebpf.ProgramGetNextID(id) {
		ids.prog = uint32(id)
	}
	for id, err := ebpf.MapGetNextID(0); err == nil; id, err = ebpf.MapGetNextID(id) {
		ids.mapID = uint32(id)
	}
	return ids
}()

// CountByName counts the programs and maps in the kernel whose names are
// in names (kernel names: their first 15 characters), and the links of
// those programs, among those made since the test binary started: objects
// of the same names pinned earlier by someone else do not count. Tests in
// other packages load objects at the same time, so a test counts only
// names its own objects use.
func CountByName(names ...string) Counts {
	want := map[string]bool{}
	for _, n := range names {
		want[n[:min(len(n), 15)]] = true
	}
	var c Counts
	ours := map[ebpf.ProgramID]bool{}
	for id, err := ebpf.ProgramGetNextID(ebpf.ProgramID(lastIDs.prog)); err == nil; id, err = ebpf.ProgramGetNextID(id) {
		if p, err := ebpf.NewProgramFromID(id); err == nil {
			if info, err := p.Info(); err == nil && want[info.Name] {
				c.Progs++
				ours[id] = true
			}
			p.Close()
		}
	}
	for id, err := ebpf.MapGetNextID(ebpf.MapID(lastIDs.mapID)); err == nil; id, err = ebpf.MapGetNextID(id) {
		if m, err := ebpf.NewMapFromID(id); err == nil {
			if info, err := m.Info(); err == nil && want[info.Name] {
				c.Maps++
			}
			m.Close()
		}
	}
	it := new(link.Iterator)
	for it.Next() {
		if info, err := it.Link.Info(); err == nil && ours[info.Program] {
			c.Links++
		}
	}
	return c
}

// WaitCountsAtMost polls CountByName(names...) for five seconds until no
// count exceeds limit, and fails the test if one still does. The kernel
// frees objects asynchronously, and tests in other packages may load the
// same objects meanwhile, so by name only an upper bound holds; AssertGone
// checks exact IDs.
func WaitCountsAtMost(tb testing.TB, limit Counts, names ...string) {
	tb.Helper()
	var got Counts
	for i := 0; i < 100; i++ {
		got = CountByName(names...)
		if got.Progs <= limit.Progs && got.Maps <= limit.Maps && got.Links <= limit.Links {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("kernel objects named %v: %+v, want at most %+v", names, got, limit)
}
