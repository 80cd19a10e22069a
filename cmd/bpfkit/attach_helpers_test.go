// What the attachment tests share: a network namespace with a veth pair,
// running bpfkit and bpftool inside it, entering it from the test, pins
// under /sys/fs/bpf/i10_*, a test cgroup.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/attachments"
)

// cgroupV1 mounts a named cgroup v1 hierarchy without controllers (which
// every kernel with cgroup v1 allows beside v2) at a temporary directory
// and unmounts it when the test ends; the hierarchy goes with it.
func cgroupV1(t *testing.T) string {
	t.Helper()
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	name := fmt.Sprintf("i10_v1_%d", time.Now().UnixNano()%1000000)
	if err := unix.Mount("cgroup", dir, "cgroup", 0, "none,name="+name); err != nil {
		t.Fatalf("mount a cgroup v1 hierarchy at %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	return dir
}

// testNetns makes a network namespace i10ns<suffix> with a veth pair
// i10v0/i10v1 (both up) and deletes it, with every device, filter and
// attachment in it, when the test ends.
func testNetns(t *testing.T) string {
	t.Helper()
	testutil.RequirePrivileged(t)
	ip := testutil.RequireTool(t, "ip")
	testutil.RequireTool(t, "nsenter")
	ns := fmt.Sprintf("i10ns%d", time.Now().UnixNano()%1000000)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
	run("-n", ns, "link", "add", "i10v0", "type", "veth", "peer", "name", "i10v1")
	run("-n", ns, "link", "set", "i10v0", "up")
	run("-n", ns, "link", "set", "i10v1", "up")
	return ns
}

// inNetns runs the program at path with args in network namespace ns
// (nsenter keeps the mounts, so bpffs stays visible) and returns its
// stdout, stderr and exit code.
func inNetns(t *testing.T, ns, path string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns, path}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("nsenter %s %s: %v", path, strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// mustInNetns is inNetns that fails the test on a non-zero exit.
func mustInNetns(t *testing.T, ns, path string, args ...string) string {
	t.Helper()
	out, errOut, code := inNetns(t, ns, path, args...)
	if code != 0 {
		t.Fatalf("%s %s in %s: exit %d: %s%s", filepath.Base(path), strings.Join(args, " "), ns, code, errOut, out)
	}
	return out
}

// withNetns runs fn on a thread that is in network namespace ns.
func withNetns(t *testing.T, ns string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	var failure any
	go func() {
		defer close(done)
		runtime.LockOSThread()
		// The thread is not unlocked: it ends with the goroutine rather
		// than going back to the scheduler in another namespace.
		target, err := netns.GetFromName(ns)
		if err != nil {
			failure = err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			failure = err
			return
		}
		defer func() { failure = recover() }()
		fn()
	}()
	<-done
	if failure != nil {
		t.Fatalf("in %s: %v", ns, failure)
	}
}

// i10PinDir is a directory /sys/fs/bpf/i10_<test>, removed with its pins
// when the test ends.
func i10PinDir(t *testing.T) string {
	t.Helper()
	testutil.RequirePrivileged(t)
	dir, err := os.MkdirTemp("/sys/fs/bpf", "i10_"+strings.ReplaceAll(t.Name(), "/", "_")+"_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// testCgroup makes the cgroup v2 directory i10_<test> under the cgroup2
// mount (/sys/fs/cgroup/unified on a hybrid system, /sys/fs/cgroup on the
// qemu guest) and removes it when the test ends (the kernel detaches what
// is left on it).
func testCgroup(t *testing.T) string {
	t.Helper()
	testutil.RequirePrivileged(t)
	root, err := attachments.Cgroup2Root()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(root, "i10_"+strings.ReplaceAll(t.Name(), "/", "_")+"_")
	if err != nil {
		t.Fatalf("make a test cgroup (cgroup v2 at %s): %v", root, err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	})
	return dir
}

// returnProg loads a program of type typ (and expected attach type at)
// named name that returns ret, unloaded when the test ends.
func returnProg(t *testing.T, name string, typ ebpf.ProgramType, at ebpf.AttachType, ret int64) (*ebpf.Program, uint32) {
	t.Helper()
	return loadProg(t, &ebpf.ProgramSpec{Name: name, Type: typ, AttachType: at, License: "GPL",
		Instructions: ebpfasm.Instructions{ebpfasm.Mov.Imm(ebpfasm.R0, int32(ret)), ebpfasm.Return()}})
}

// rawSections decodes a JSON object into its members, unparsed.
func rawSections(t *testing.T, data string) map[string]json.RawMessage {
	t.Helper()
	var out map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &out); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	return out
}

// queryMap returns the programs attached to map m as typ.
func queryMap(m *ebpf.Map, typ ebpf.AttachType) ([]uint32, error) {
	q, err := objects.ProgQuery(m.FD(), uint32(typ), 0)
	if err != nil {
		return nil, err
	}
	return q.ProgIDs, nil
}

// execOutput runs path with args and returns its stdout; the error has its
// stderr.
func execOutput(path string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return stdout.Bytes(), nil
}
