package features

import (
	"os"
	"strings"
	"time"
)

// The kernel's answer to a program that calls bpf_trace_printk, even one
// that is only verified, is to queue work that switches the
// bpf_trace_printk trace event on (and to print a notice in its log once).
// A full probe puts the event back as it found it; the notice stays in the
// log, as it does after bpftool, which leaves the event on.
var printkEventPaths = []string{
	"/sys/kernel/tracing/events/bpf_trace/bpf_trace_printk/enable",
	"/sys/kernel/debug/tracing/events/bpf_trace/bpf_trace_printk/enable",
}

// keepPrintkEvent reads the bpf_trace_printk event's state and returns a
// function that switches it off again if it was off and a program that
// calls bpf_trace_printk or bpf_trace_vprintk was verified (loaded). The
// kernel switches it on from a work queue, after the load returns: the
// function waits (up to a second) for that to happen, then switches the
// event off until it stays off.
func keepPrintkEvent() (restore func(loaded bool)) {
	for _, p := range printkEventPaths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if strings.TrimSpace(string(data)) != "0" {
			return func(bool) {}
		}
		on := func() bool {
			now, err := os.ReadFile(p)
			return err == nil && strings.TrimSpace(string(now)) != "0"
		}
		return func(loaded bool) {
			if !loaded {
				return
			}
			deadline := time.Now().Add(time.Second)
			for !on() && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			for range 5 {
				if !on() {
					return
				}
				if os.WriteFile(p, []byte("0"), 0) != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	return func(bool) {}
}
