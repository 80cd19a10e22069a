package objects

import (
	"golang.org/x/sys/unix"
)

// bootClock converts times since boot, as the kernel reports load times,
// to wall-clock epoch seconds exactly as bpftool does.
type bootClock struct {
	// offset is CLOCK_REALTIME - CLOCK_BOOTTIME in nanoseconds, split as
	// bpftool splits it.
	sec, nsec int64
	ok        bool
}

// readBootClock reads both clocks. A listing reads them once for all its
// programs: their difference only moves when the clock is set.
func readBootClock() bootClock {
	var real, boot unix.Timespec
	if unix.ClockGettime(unix.CLOCK_REALTIME, &real) != nil || unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil {
		return bootClock{}
	}
	return bootClock{sec: real.Sec - boot.Sec, nsec: real.Nsec - boot.Nsec, ok: true}
}

// epoch returns the wall-clock second of a time since boot in
// nanoseconds: the whole seconds between the clocks plus the nanoseconds
// between them and the time since boot, in whole seconds (bpftool's
// print_boot_time, which keeps the nanoseconds).
func (c bootClock) epoch(sinceBoot uint64) int64 {
	if !c.ok {
		return int64(sinceBoot / 1e9)
	}
	// bpftool adds the second term in unsigned 64-bit arithmetic.
	return c.sec + int64((uint64(c.nsec)+sinceBoot)/1e9)
}
