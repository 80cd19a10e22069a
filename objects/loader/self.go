package loader

import (
	"encoding/binary"
	"strconv"
	"sync"

	ebpfbtf "github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/objects/events"
)

// A run session watches events it may cause itself: its writes to stdout
// trigger a sys_enter_write program, its reads of /proc an openat one. What
// it provably caused is left out unless RunOptions.KeepSelf: trace_pipe
// lines whose task is one of bpfkit's threads, and decoded records whose
// top-level pid or tgid field names bpfkit's process or one of its
// threads (programs store either bpf_get_current_pid_tgid() >> 32 or its
// low half, the thread).

// selfTasks tells whether a task ID is bpfkit's process or one of its
// threads, asking /proc once per ID (a stat, no open).
type selfTasks struct {
	pid  int
	mu   sync.Mutex
	seen map[uint64]bool
}

func newSelfTasks(pid int) *selfTasks {
	return &selfTasks{pid: pid, seen: map[uint64]bool{uint64(pid): true}}
}

func (t *selfTasks) has(id uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	own, ok := t.seen[id]
	if !ok {
		var st unix.Stat_t
		own = id != 0 && unix.Stat("/proc/"+strconv.Itoa(t.pid)+"/task/"+strconv.FormatUint(id, 10), &st) == nil
		t.seen[id] = own
	}
	return own
}

// Own reports whether a trace_pipe line comes from one of bpfkit's own
// threads, and counts it when it does; always false with KeepSelf.
func (s *Session) Own(l events.TraceLine) bool {
	if s.self == nil || l.PID <= 0 || !s.self.has(uint64(l.PID)) {
		return false
	}
	s.ownTraces.Add(1)
	return true
}

// OwnTraces is how many trace_pipe lines Own left out.
func (s *Session) OwnTraces() uint64 { return s.ownTraces.Load() }

// pidOf reads the top-level integer member named pid or tgid of a record
// of type t.
func pidOf(t ebpfbtf.Type, data []byte) (uint64, bool) {
	st, ok := t.(*ebpfbtf.Struct)
	if !ok {
		return 0, false
	}
	for _, name := range []string{"pid", "tgid"} {
		for _, m := range st.Members {
			if m.Name != name || m.BitfieldSize != 0 || m.Offset%8 != 0 {
				continue
			}
			it, ok := ebpfbtf.UnderlyingType(m.Type).(*ebpfbtf.Int)
			off := int(m.Offset / 8)
			if !ok || off+int(it.Size) > len(data) {
				continue
			}
			b := data[off : off+int(it.Size)]
			switch it.Size {
			case 4:
				return uint64(binary.NativeEndian.Uint32(b)), true
			case 8:
				return binary.NativeEndian.Uint64(b), true
			}
		}
	}
	return 0, false
}
