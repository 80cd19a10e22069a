package elfobj

import (
	"testing"

	"github.com/cilium/ebpf"
)

// TestProgramSection: the TYPE words of bpftool's prog load.
func TestProgramSection(t *testing.T) {
	for word, want := range map[string]ebpf.ProgramType{
		"xdp": ebpf.XDP, "kprobe": ebpf.Kprobe, "kprobe/do_sys_open": ebpf.Kprobe,
		"cgroup/skb": ebpf.CGroupSKB, "tracepoint": ebpf.TracePoint, "sched_cls": ebpf.SchedCLS,
		"socket": ebpf.SocketFilter, "lsm": ebpf.LSM,
	} {
		got, _, ok := ProgramSection(word)
		if !ok || got != want {
			t.Errorf("%s: got %v %v, want %v", word, got, ok, want)
		}
	}
	if _, _, ok := ProgramSection("nonsense"); ok {
		t.Error("nonsense accepted")
	}
}
