package objects

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// bootOffset is CLOCK_REALTIME - CLOCK_BOOTTIME in whole seconds, read once:
// a listing of thousands of programs needs it for each.
var bootOffset = sync.OnceValue(func() int64 {
	var real, boot unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &real)
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot)
	return int64(real.Sec - boot.Sec)
})

// wallClock converts a time since boot, as the kernel reports load times, to
// wall-clock epoch seconds the way bpftool does: the difference between
// CLOCK_REALTIME and CLOCK_BOOTTIME in whole seconds plus the whole seconds
// since boot.
func wallClock(sinceBoot time.Duration) int64 {
	return bootOffset() + int64(sinceBoot/time.Second)
}
