package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/cilium/ebpf"
	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// screen is what a process wrote to its pseudo-terminal so far.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// text returns what was written from byte from on, raw and without its
// escape sequences.
func (s *screen) text(from int) (raw, plain string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw = s.buf.String()[from:]
	return raw, ansi.Strip(raw)
}

// readFrom copies what the terminal's other end shows into s until it
// fails (every process holding the terminal has gone); the channel closes
// then.
func (s *screen) readFrom(ptmx io.Reader) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(s, ptmx)
	}()
	return done
}

func (s *screen) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Len()
}

// waitFor waits until what was written from byte from on satisfies ok.
func (s *screen) waitFor(t *testing.T, from int, what string, ok func(plain string) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, plain := s.text(from); ok(plain) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, plain := s.text(from)
	t.Fatalf("the screen never showed %s; it showed:\n%s", what, plain)
}

// before reports whether a shows before b in s, both there.
func before(s, a, b string) bool {
	i, j := strings.Index(s, a), strings.Index(s, b)
	return i >= 0 && j >= 0 && i < j
}

// TestTopTUI drives the live view in a pseudo-terminal: it draws two
// programs of the test sorted by id, 'r' reverses the order, 's' sorts on
// the next column, and q, Ctrl-C (a key in the view's raw mode) and
// SIGTERM each end it with exit 0, the terminal's modes as they were
// before, the alternate screen left and the cursor shown.
func TestTopTUI(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, end := range []string{"q", "ctrl-c", "SIGTERM"} {
		t.Run(end, func(t *testing.T) { testTopTUI(t, end) })
	}
}

func testTopTUI(t *testing.T, end string) {
	spec := func(name string) *ebpf.ProgramSpec {
		return &ebpf.ProgramSpec{Name: name, Type: ebpf.SocketFilter, License: "GPL", Instructions: testutil.ReturnZero()}
	}
	a := testutil.NewProgram(t, spec("i11_tui_a"))
	b := testutil.NewProgram(t, spec("i11_tui_b"))
	aID, bID := mustID(t, objects.Programs, a), mustID(t, objects.Programs, b)
	if aID > bID {
		t.Fatalf("ids %d, %d: want the first loaded lower", aID, bID)
	}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	modes, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(binPath, "prog", "top", "name", "i11_tui_a", "name", "i11_tui_b", "interval", "200ms", "sort", "id")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		exited <- <-exited
	}()
	var scr screen
	scr.readFrom(ptmx)

	// It draws: the two programs, a before b, sorted by id increasing.
	scr.waitFor(t, 0, "both programs sorted by id", func(s string) bool {
		return strings.Contains(s, "ID▲") && before(s, "i11_tui_a", "i11_tui_b")
	})
	raw, _ := scr.text(0)
	if !strings.Contains(raw, "\x1b[?1049h") {
		t.Errorf("the view did not switch to the alternate screen")
	}
	if strings.Contains(raw, "\x1b]11;?") {
		t.Errorf("the view asked the terminal for its background: %q", raw)
	}

	// 'r': b before a.
	mark := scr.len()
	ptmx.WriteString("r")
	scr.waitFor(t, mark, "the order reversed", func(s string) bool {
		return strings.Contains(s, "ID▼") && before(s, "i11_tui_b", "i11_tui_a")
	})
	// 's': the next column, type, increasing.
	mark = scr.len()
	ptmx.WriteString("s")
	scr.waitFor(t, mark, "sorted by type", func(s string) bool { return strings.Contains(s, "TYPE▲") })

	mark = scr.len()
	switch end {
	case "q":
		ptmx.WriteString("q")
	case "ctrl-c":
		ptmx.WriteString("\x03")
	case "SIGTERM":
		cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("after %s: %v", end, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not end it", end)
	}
	scr.waitFor(t, mark, "the terminal given back", func(string) bool {
		raw, _ := scr.text(mark)
		return strings.Contains(raw, "\x1b[?1049l") && strings.Contains(raw, "\x1b[?25h")
	})
	after, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *modes {
		t.Errorf("terminal modes after %s:\n%+v\nbefore:\n%+v", end, *after, *modes)
	}
}

// TestTerminalNotQueried: a command whose stdout is a terminal that
// answers nothing writes its output and no query (Bubble Tea, linked in
// for prog top, would ask for the background colour as the process
// starts and wait seconds for the answer).
func TestTerminalNotQueried(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd := exec.Command(binPath, "--version")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var scr screen
	done := scr.readFrom(ptmx)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	<-done
	raw, _ := scr.text(0)
	if strings.Contains(raw, "\x1b") || !strings.HasPrefix(raw, "bpfkit ") {
		t.Errorf("bpfkit --version on a terminal wrote %q", raw)
	}
}
