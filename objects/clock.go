package objects

import (
	"time"

	"golang.org/x/sys/unix"
)

// wallClock converts a time since boot, as the kernel reports load times, to
// wall-clock epoch seconds the way bpftool does: the difference between
// CLOCK_REALTIME and CLOCK_BOOTTIME in whole seconds plus the whole seconds
// since boot.
func wallClock(sinceBoot time.Duration) int64 {
	var real, boot unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &real)
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot)
	return int64(real.Sec-boot.Sec) + int64(sinceBoot/time.Second)
}
