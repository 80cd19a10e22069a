package stats

import (
	"fmt"
	"os"

	"github.com/bpfkit/bpfkit/objects"
)

// Status is whether the kernel counts run time and runs now, and why: the
// kernel counts while kernel.bpf_stats_enabled is 1 or while any process
// holds a BPF_ENABLE_STATS descriptor.
type Status struct {
	// Sysctl is set when kernel.bpf_stats_enabled reads 1.
	Sysctl bool
	// Self is set when the calling process holds a Switch open.
	Self bool
	// Holders are the other processes holding BPF_ENABLE_STATS
	// descriptors (bpftop, another bpfkit), looked for only when neither
	// of the above says the statistics are on.
	Holders []objects.Owner
}

// Enabled reports whether the kernel counts run time and runs.
func (s Status) Enabled() bool { return s.Sysctl || s.Self || len(s.Holders) > 0 }

// ReadStatus says whether statistics are on now. self is the calling
// process's Switch, or nil.
func ReadStatus(self *Switch) (Status, error) {
	var st Status
	st.Self = self.Open()
	value, err := os.ReadFile(SysctlPath)
	if err != nil {
		return st, fmt.Errorf("read %s: %w", SysctlPath, err)
	}
	st.Sysctl = on(value)
	if st.Enabled() {
		return st, nil
	}
	holders, err := objects.StatsHolders()
	if err != nil {
		return st, fmt.Errorf("look for processes holding statistics on: %w", err)
	}
	st.Holders = holders
	return st, nil
}
