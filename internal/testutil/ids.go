package testutil

import (
	"time"
	"unsafe"

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
