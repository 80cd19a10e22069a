package main

// Faults (issue 17): signals sent to the attach verbs, iter pin and
// struct_ops register while they work.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/bpfkit/bpfkit/internal/infile"
	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// signalSweep sends each of SIGINT, SIGTERM and SIGHUP to the command
// line path args after delays from 0 to max, so that the signal lands
// before, during and after the command's kernel calls, and passes each
// ending to check: done says the command finished (exit 0); otherwise
// the signal stopped it (caught: exit 128+n and one line; or, before
// bpfkit caught signals, killed). An ending that is neither fails.
func signalSweep(t *testing.T, max, step time.Duration, path string, args []string, check func(what string, done bool)) {
	t.Helper()
	for delay := time.Duration(0); delay <= max; delay += step {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			d, start := delay, time.Now()
			at := signalPoint{fmt.Sprintf("%v after start", d), func() bool { return time.Since(start) >= d }}
			code, killed, stderr := signalTrialOf(t, sig, at, path, args...)
			what := fmt.Sprintf("%s, %s %v after start", strings.Join(args, " "), sig, d)
			switch {
			case code == 0:
				check(what, true)
			case code == 128+int(sig) && strings.Count(stderr, "\n") == 1 && strings.Contains(stderr, "interrupted by "):
				check(what, false)
			case killed == sig:
				check(what, false)
			default:
				t.Errorf("%s: exit %d, killed by %v: %s", what, code, killed, stderr)
			}
		}
	}
}

// TestSignalsDuringAttachVerbs: a signal during cgroup attach, net attach
// (XDP, in a network namespace), prog attach and their detach verbs ends
// them either done (exit 0, and the attachment is there or gone as asked)
// or stopped with nothing changed: nothing is attached that the user was
// not told about, and a stopped detach leaves the attachment.
func TestSignalsDuringAttachVerbs(t *testing.T) {
	testutil.RequirePrivileged(t)
	t.Run("cgroup", func(t *testing.T) {
		cg := testCgroup(t)
		p, id := returnProg(t, "i17b_sig_cg", ebpf.CGroupSKB, ebpf.AttachCGroupInetIngress, 1)
		detachLater(t, cg, ebpf.AttachCGroupInetIngress, p)
		attachedIDs := func() []uint32 {
			f, err := os.Open(cg)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			q, err := objects.ProgQuery(int(f.Fd()), uint32(ebpf.AttachCGroupInetIngress), 0)
			if err != nil {
				t.Fatal(err)
			}
			return q.ProgIDs
		}
		signalSweep(t, 12*time.Millisecond, 2*time.Millisecond, binPath, []string{"cgroup", "attach", cg, "ingress", "id", itoa(id), "multi"}, func(what string, done bool) {
			if on := slices.Contains(attachedIDs(), id); on != done {
				t.Errorf("%s: finished %v, attached %v", what, done, on)
			}
			if done {
				mustBpfkit(t, "cgroup", "detach", cg, "ingress", "id", itoa(id))
			}
		})
		mustBpfkit(t, "cgroup", "attach", cg, "ingress", "id", itoa(id), "multi")
		signalSweep(t, 12*time.Millisecond, 4*time.Millisecond, binPath, []string{"cgroup", "detach", cg, "ingress", "id", itoa(id)}, func(what string, done bool) {
			if on := slices.Contains(attachedIDs(), id); on == done {
				t.Errorf("%s: finished %v, attached %v", what, done, on)
			}
			if done {
				mustBpfkit(t, "cgroup", "attach", cg, "ingress", "id", itoa(id), "multi")
			}
		})
		if slices.Contains(attachedIDs(), id) {
			mustBpfkit(t, "cgroup", "detach", cg, "ingress", "id", itoa(id))
		}
	})
	t.Run("net", func(t *testing.T) {
		ns := testNetns(t)
		_, id := returnProg(t, "i17b_sig_xdp", ebpf.XDP, ebpf.AttachNone, 2)
		nsenter := testutil.RequireTool(t, "nsenter")
		xdp := func() string {
			return string(netShowJSON(t, mustInNetns(t, ns, binPath, "-j", "net", "show", "dev", "i10v0"))["xdp"])
		}
		in := func(args ...string) []string { return append([]string{"--net=/run/netns/" + ns, binPath}, args...) }
		signalSweep(t, 12*time.Millisecond, 2*time.Millisecond, nsenter, in("net", "attach", "xdpgeneric", "id", itoa(id), "dev", "i10v0"), func(what string, done bool) {
			on := strings.Contains(xdp(), fmt.Sprintf(`"id":%d`, id))
			if on != done {
				t.Errorf("%s: finished %v, attached %v: %s", what, done, on, xdp())
			}
			if on {
				mustInNetns(t, ns, binPath, "net", "detach", "xdpgeneric", "dev", "i10v0")
			}
		})
	})
}

// TestSignalsDuringIterPin: a signal while iter pin loads, attaches and
// pins an iterator leaves either the pinned iterator (exit 0) or nothing:
// no pin, and no program or link of it in the kernel.
func TestSignalsDuringIterPin(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := i17bDir(t, "sigiter", 0o700)
	pin := filepath.Join(dir, "it")
	obj := testutil.Testdata(t, "attach/iter_maps.bpf.o")
	signalSweep(t, 40*time.Millisecond, 5*time.Millisecond, binPath, []string{"iter", "pin", obj, pin}, func(what string, done bool) {
		if exists(pin) != done {
			t.Errorf("%s: finished %v, pin there %v", what, done, exists(pin))
		}
		os.Remove(pin)
		testutil.WaitCountsAtMost(t, testutil.Counts{}, "i10_iter_maps")
	})
}

// TestSignalsDuringStructOpsRegister: a signal while struct_ops register
// loads and registers leaves either the registration and its pinned link
// (exit 0) or nothing registered and nothing pinned, not even the link
// directory it made (the default action of SIGINT once left it).
func TestSignalsDuringStructOpsRegister(t *testing.T) {
	testutil.Requires(t, "struct_ops_link_detach")
	dir := i17bDir(t, "sigops", 0o700)
	links := filepath.Join(dir, "links")
	obj := testutil.Testdata(t, "attach/tcp_ca.bpf.o")
	args := []string{"struct_ops", "register", obj, links}
	check := func(what string, done bool) {
		pinned := exists(filepath.Join(links, "i10_ca"))
		if pinned != done || !done && exists(links) {
			t.Errorf("%s: finished %v, link pinned %v, %s there %v", what, done, pinned, links, exists(links))
		}
		if done {
			mustBpfkit(t, "struct_ops", "unregister", "name", "i10_ca")
		}
		os.RemoveAll(links)
		testutil.WaitCountsAtMost(t, testutil.Counts{}, "i10_ca")
	}
	signalSweep(t, 40*time.Millisecond, 5*time.Millisecond, binPath, args, check)
	// Once the link directory is made: the load is ahead.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		code, killed, stderr := signalTrial(t, sig, signalPoint{"link directory made", func() bool { return exists(links) }}, args...)
		what := fmt.Sprintf("struct_ops register, %s once %s is made", sig, links)
		switch {
		case code == 0:
			check(what, true)
		case code == 128+int(sig):
			check(what, false)
		default:
			t.Errorf("%s: exit %d, killed by %v: %s", what, code, killed, stderr)
			check(what, false)
		}
	}
}

// TestAsmDemoSignals: SIGINT, SIGTERM and SIGHUP (a closed terminal: the
// demo had no handling for it, issue 17 item 7) end a loaded demo as its
// count would, with its summary, and unload it.
func TestAsmDemoSignals(t *testing.T) {
	testutil.RequirePrivileged(t)
	loaded := regexp.MustCompile(`^Loaded program bpfkit_demo as id (\d+) with map bpfkit_events id (\d+)`)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		cmd := exec.Command(binPath, "asm", "demo", "count", "1000000", "timeout", "50s")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var progID, mapID string
		var text []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			text = append(text, sc.Text())
			if m := loaded.FindStringSubmatch(sc.Text()); m != nil && progID == "" {
				progID, mapID = m[1], m[2]
				cmd.Process.Signal(sig)
			}
		}
		err = cmd.Wait()
		if progID == "" {
			t.Fatalf("demo, %s: never loaded: %v: %s\n%s", sig, err, stderr.String(), strings.Join(text, "\n"))
		}
		if code, killed := exitOf(err); code != 0 || killed != 0 {
			t.Errorf("demo, %s once loaded: exit %d, killed by %v: %s", sig, code, killed, stderr.String())
		}
		checkDemoGone(t, progID, mapID)
	}
}

// TestEventPipeEndsWithItsReader: map event_pipe on a ring buffer nothing
// writes to ends once the reader of its stdout goes away, not at a next
// record that never comes; it leaves nothing.
func TestEventPipeEndsWithItsReader(t *testing.T) {
	dir := i17bDir(t, "pipe", 0o700)
	rb := dir + "/rb"
	mustBpfkit(t, "map", "create", rb, "type", "ringbuf", "key", "0", "value", "0", "entries", "4096", "name", "i17b_pipe")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// stderr is a file the test reads while bpfkit writes it (a buffer
	// exec copies into would race with the reads).
	stderrFile := filepath.Join(t.TempDir(), "stderr")
	ef, err := os.Create(stderrFile)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	stderr := func() string { b, _ := os.ReadFile(stderrFile); return string(b) }
	cmd := exec.Command(binPath, "map", "event_pipe", "pinned", rb)
	cmd.Stdout, cmd.Stderr = w, ef
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Once it runs (its warning is on stderr), the reader goes away.
	waitFor(func() bool { return strings.Contains(stderr(), "Warning") })
	r.Close()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("event_pipe still running a minute after its reader went away")
	}
	if strings.Contains(stderr(), "panic") {
		t.Errorf("event_pipe: %s", stderr())
	}
}

// TestDocsStateTheFileSizeLimit: the size limit the docs state is the
// one the code applies (the README and the code once disagreed).
func TestDocsStateTheFileSizeLimit(t *testing.T) {
	want := fmt.Sprintf("%d MiB", infile.MaxSize>>20)
	for _, doc := range []string{"../../docs/elf.md", "../../docs/testing.md", "../../docs/btf.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), want) {
			t.Errorf("%s does not state the file size limit, %s", doc, want)
		}
		for _, m := range regexp.MustCompile(`files? up to (\d+ [MG]iB)`).FindAllStringSubmatch(string(data), -1) {
			if m[1] != want {
				t.Errorf("%s says files up to %s; the code takes %s", doc, m[1], want)
			}
		}
	}
}
