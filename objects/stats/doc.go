// Package stats holds the kernel's run-time statistics of BPF programs:
// the switch that turns them on (Enable: a BPF_ENABLE_STATS file
// descriptor held open, or the kernel.bpf_stats_enabled sysctl where that
// command is missing, put back exactly as it was), whether they are on
// now and who holds them on (Status), and the rates of `prog top` (Top):
// events per second, average run time and share of the CPUs over each
// interval, from two samples of every program's run_cnt and run_time_ns.
//
// The package returns plain data. It never prints, never exits, never
// catches signals and never decides an output format: the command that
// holds a Switch closes it on every way out, and internal/render prints
// the intervals.
package stats
