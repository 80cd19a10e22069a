package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// holder starts `sleep` holding a copy of each fd and stops it when the
// test ends.
func holder(t *testing.T, fds ...int) *os.Process {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	for _, fd := range fds {
		// A close-on-exec copy: the helper gets it as 3, 4, ... only.
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(dup), "bpf")
		defer f.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process
}

// TestPIDs: show lists the processes holding programs, maps and links —
// the test itself and a helper process — in bpftool's JSON ("pids":
// [{"pid","comm"}]) and in a PIDS column of the tables. bpfkit runs as its
// own process, which leaves itself out.
func TestPIDs(t *testing.T) {
	testutil.RequirePrivileged(t)
	m, mapID := newMap(t, &ebpf.MapSpec{Name: "bpfkit_t_pids", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	p, progID := loadProg(t, &ebpf.ProgramSpec{Name: "bpfkit_t_pids", Type: ebpf.RawTracepoint, License: "GPL", Instructions: testutil.ReturnZero()})
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sched_switch", Program: p})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	linkID, err := objects.Links.ID(l)
	if err != nil {
		t.Fatal(err)
	}
	linkFD := l.(interface{ FD() int }).FD()
	sleeper := holder(t, m.FD(), p.FD(), linkFD)
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	want := []objects.Owner{{PID: os.Getpid(), Comm: strings.TrimSpace(string(comm))}, {PID: sleeper.Pid, Comm: "sleep"}}
	if want[1].PID < want[0].PID {
		want[0], want[1] = want[1], want[0]
	}

	for _, c := range []struct{ noun, id string }{{"prog", itoa(progID)}, {"map", itoa(mapID)}, {"link", itoa(linkID)}} {
		out, err := exec.Command(binPath, "-j", c.noun, "show", "id", c.id).Output()
		if err != nil {
			t.Fatalf("%s show: %v", c.noun, err)
		}
		var got struct {
			PIDs []objects.Owner `json:"pids"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s show: %v: %s", c.noun, err, out)
		}
		// Other processes on the machine (bpftool or bpfkit listing every
		// map, say) hold the objects for a moment too: leave them out.
		got.PIDs = ours(got.PIDs, want)
		if len(got.PIDs) != 2 || got.PIDs[0] != want[0] || got.PIDs[1] != want[1] {
			t.Errorf("%s %s: pids %+v, want %+v", c.noun, c.id, got.PIDs, want)
		}
		if !regexp.MustCompile(`"pids":\[(\{"pid":\d+,"comm":"[^"]*"\},?)+\]\}$`).Match(bytes.TrimSpace(out)) {
			t.Errorf("%s show: pids are not the last field, as in bpftool:\n%s", c.noun, out)
		}
		// bpftool finds holders with a BPF iterator, which fails to load
		// on some kernels (6.18's); where it works (the qemu guest's
		// 6.1), its pids are bpfkit's.
		var theirs struct {
			PIDs *[]objects.Owner `json:"pids"`
		}
		// (Its link show exits 255 then, after printing the link.)
		bout, _ := testutil.Bpftool78(t, "-j", c.noun, "show", "id", c.id)
		if err := json.Unmarshal(bout, &theirs); err != nil {
			t.Fatalf("bpftool 7.8 -j %s show id %s: %v: %q", c.noun, c.id, err, bout)
		}
		if theirs.PIDs == nil {
			t.Logf("bpftool 7.8 %s show lists no pids on this kernel", c.noun)
		} else if fmt.Sprint(ours(*theirs.PIDs, want)) != fmt.Sprint(got.PIDs) {
			t.Errorf("%s %s: pids %+v, bpftool 7.8: %+v", c.noun, c.id, got.PIDs, *theirs.PIDs)
		}
		table, err := exec.Command(binPath, c.noun, "show", "id", c.id).Output()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(table)), "\n")
		cell := regexp.MustCompile(regexp.QuoteMeta(want[0].Comm+"("+strconv.Itoa(want[0].PID)+"),") + `(\S+\(\d+\),)*` +
			regexp.QuoteMeta(want[1].Comm+"("+strconv.Itoa(want[1].PID)+")"))
		if len(lines) != 2 || !strings.HasSuffix(lines[0], "PIDS") || !cell.MatchString(lines[1]) {
			t.Errorf("%s show table, want a PIDS column with %s:\n%s", c.noun, cell, table)
		}
	}

	// In-process, bpfkit is the test: it leaves itself out and lists the
	// helper alone.
	var got struct {
		PIDs []objects.Owner `json:"pids"`
	}
	if err := json.Unmarshal([]byte(mustBpfkit(t, "-j", "map", "show", "id", itoa(mapID))), &got); err != nil {
		t.Fatal(err)
	}
	if got.PIDs = ours(got.PIDs, want); len(got.PIDs) != 1 || got.PIDs[0].PID != sleeper.Pid || got.PIDs[0].Comm != "sleep" {
		t.Errorf("in-process map show: pids %+v, want only sleep(%d)", got.PIDs, sleeper.Pid)
	}
}

// ours keeps the owners among want, by pid.
func ours(owners, want []objects.Owner) []objects.Owner {
	var out []objects.Owner
	for _, o := range owners {
		for _, w := range want {
			if o.PID == w.PID {
				out = append(out, o)
			}
		}
	}
	return out
}
