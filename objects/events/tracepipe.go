package events

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bpfkit/bpfkit/objects"
	"golang.org/x/sys/unix"
)

// ErrNoTracefs is returned when no tracefs is mounted and mounting was not
// allowed or failed.
var ErrNoTracefs = errors.New("tracefs is not mounted")

// TraceDir finds the tracefs mount the way bpftool does (/sys/kernel/tracing,
// /sys/kernel/debug/tracing, then /proc/mounts) and mounts it on
// /sys/kernel/tracing when absent and mount is true.
func TraceDir(mount bool) (string, error) {
	for _, d := range []string{objects.TracefsPath, "/sys/kernel/debug/tracing"} {
		if objects.IsTracefs(d) {
			return d, nil
		}
	}
	if data, err := os.ReadFile("/proc/mounts"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[2] == "tracefs" {
				return f[1], nil
			}
		}
	}
	if !mount {
		return "", ErrNoTracefs
	}
	if err := objects.EnsureTracefs(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoTracefs, err)
	}
	return objects.TracefsPath, nil
}

// TraceLine is one line of trace_pipe, split into its fields when it has
// the usual "task-pid [cpu] flags timestamp: function: message" shape.
type TraceLine struct {
	Raw       string
	Task      string
	PID       int
	CPU       int
	Timestamp string
	// Message is the text after "bpf_trace_printk: " (or after the event
	// name for other events).
	Message string
}

var traceLineRe = regexp.MustCompile(`^\s*(.+)-(\d+)\s+\[(\d+)\]\s+(?:\S+\s+)?(\d+\.\d+):\s+([^:]+):\s?(.*)$`)

// ParseTraceLine splits a trace_pipe line. Lines of another shape keep only
// Raw and Message (the whole line).
func ParseTraceLine(s string) TraceLine {
	tl := TraceLine{Raw: s, Message: s, PID: -1, CPU: -1}
	m := traceLineRe.FindStringSubmatch(s)
	if m == nil {
		return tl
	}
	tl.Task = strings.TrimSpace(m[1])
	tl.PID, _ = strconv.Atoi(m[2])
	tl.CPU, _ = strconv.Atoi(m[3])
	tl.Timestamp = m[4]
	tl.Message = m[6]
	return tl
}

// TracePipe streams the kernel's trace_pipe, where bpf_printk writes.
// Reading it consumes the lines: two readers split them between them.
type TracePipe struct {
	f  *os.File
	sc *bufio.Scanner
}

// OpenTracePipe opens trace_pipe, mounting tracefs first when it is absent
// and mount is true.
func OpenTracePipe(mount bool) (*TracePipe, error) {
	dir, err := TraceDir(mount)
	if err != nil {
		return nil, err
	}
	// Opened non-blocking so that the runtime poller owns the descriptor
	// and Close wakes a reader blocked in Next (a plain blocking read of a
	// tracefs file would not return until the next line).
	path := dir + "/trace_pipe"
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	sc.Split(splitLines)
	return &TracePipe{f: f, sc: sc}, nil
}

// Next blocks until a line arrives. After Close it returns os.ErrClosed.
func (t *TracePipe) Next() (TraceLine, error) {
	if !t.sc.Scan() {
		err := t.sc.Err()
		if err == nil || errors.Is(err, os.ErrClosed) {
			err = os.ErrClosed
		}
		return TraceLine{}, err
	}
	return ParseTraceLine(t.sc.Text()), nil
}

// Close stops the stream; a blocked Next returns.
func (t *TracePipe) Close() error {
	return t.f.Close()
}

// DiscardBacklog drops the lines already waiting in trace_pipe (written
// before this run started), reading for at most d. Call it before Next.
func (t *TracePipe) DiscardBacklog(d time.Duration) error {
	buf := make([]byte, 64*1024)
	if err := t.f.SetReadDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	defer t.f.SetReadDeadline(time.Time{})
	for {
		if _, err := t.f.Read(buf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			return err
		}
	}
}

// splitLines splits at newlines and keeps the rest of each line as it is
// (bufio.ScanLines would drop a carriage return that ends a message).
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
