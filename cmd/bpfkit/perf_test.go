package main

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// perfEvent opens a perf event of pmu type typ with config and the
// uprobe path and offset (config1, config2), on CPU 0 for every process,
// and attaches prog to it with PERF_EVENT_IOC_SET_BPF, the way tools did
// before BPF links. The test closes it.
func perfEvent(t *testing.T, typ uint32, config uint64, path string, offset uint64, prog *ebpf.Program) int {
	t.Helper()
	attr := unix.PerfEventAttr{Type: typ, Config: config, Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample_type: unix.PERF_SAMPLE_RAW, Sample: 1, Wakeup: 1}
	var p []byte
	if path != "" {
		p = append([]byte(path), 0)
		attr.Ext1 = uint64(uintptr(unsafe.Pointer(&p[0])))
		attr.Ext2 = offset
	}
	fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		t.Fatalf("perf_event_open: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); err != nil {
		t.Fatalf("PERF_EVENT_IOC_SET_BPF: %v", err)
	}
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		t.Fatalf("PERF_EVENT_IOC_ENABLE: %v", err)
	}
	return fd
}

// sysfsNumber reads a number from a sysfs or tracefs file.
func sysfsNumber(t *testing.T, path string) uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fileOffset returns the file offset of the exported function sym of the
// shared library or executable at path, where a uprobe goes.
func fileOffset(t *testing.T, path, sym string) uint64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != sym {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && s.Value >= p.Vaddr && s.Value < p.Vaddr+p.Memsz {
				return s.Value - p.Vaddr + p.Off
			}
		}
	}
	t.Fatalf("no function %s in %s", sym, path)
	return 0
}

// linkFD is the file descriptor of a link.
func linkFD(l link.Link) int { return l.(interface{ FD() int }).FD() }

// perfEntries decodes `perf show -j` and keeps the entries for which keep
// is true, re-encoded one by one (field order kept).
func perfEntries(t *testing.T, out []byte, keep func(map[string]any) bool) []string {
	t.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("perf show -j: %v", err)
	}
	var kept []string
	for _, r := range raw {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		if keep(m) {
			kept = append(kept, string(r))
		}
	}
	return kept
}

// TestPerfShow: a helper process holds a tracepoint and a uprobe attached
// the way tools did before links (perf event file descriptors) and a raw
// tracepoint link; `perf show -j` lists them as bpftool 7.8 and 7.1 do,
// byte for byte. It also holds a uprobe link and a tracepoint link alone
// (their perf events are not in any process's files), which bpftool
// misses and bpfkit lists with the link's id and holder.
func TestPerfShow(t *testing.T) {
	testutil.RequirePrivileged(t)
	// Uprobes on two libc functions that nothing here calls.
	exe := "/lib/x86_64-linux-gnu/libc.so.6"
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("the uprobes go in libc: %v", err)
	}
	tp, tpID := returnProg(t, "i10_perf_tp", ebpf.TracePoint, ebpf.AttachNone, 0)
	up, upID := returnProg(t, "i10_perf_up", ebpf.Kprobe, ebpf.AttachNone, 0)
	raw, rawID := returnProg(t, "i10_perf_raw", ebpf.RawTracepoint, ebpf.AttachNone, 0)
	ul, ulID := returnProg(t, "i10_perf_ul", ebpf.Kprobe, ebpf.AttachNone, 0)
	tl, tlID := returnProg(t, "i10_perf_tl", ebpf.TracePoint, ebpf.AttachNone, 0)

	tpFD := perfEvent(t, unix.PERF_TYPE_TRACEPOINT, sysfsNumber(t, "/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id"), "", 0, tp)
	offset := fileOffset(t, exe, "l64a")
	upFD := perfEvent(t, uint32(sysfsNumber(t, "/sys/bus/event_source/devices/uprobe/type")), 0, exe, offset, up)
	rawLink, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_exit", Program: raw})
	if err != nil {
		t.Fatal(err)
	}
	defer rawLink.Close()
	ex, err := link.OpenExecutable(exe)
	if err != nil {
		t.Fatal(err)
	}
	uLink, err := ex.Uprobe("a64l", ul, nil)
	if err != nil {
		t.Fatal(err)
	}
	tLink, err := link.Tracepoint("syscalls", "sys_exit_getppid", tl, nil)
	if err != nil {
		uLink.Close()
		t.Fatal(err)
	}
	uLinkID, tLinkID := mustID(t, objects.Links, uLink), mustID(t, objects.Links, tLink)
	sleeper := holder(t, tpFD, upFD, linkFD(rawLink), linkFD(uLink), linkFD(tLink))
	// The helper alone holds the two links now: cilium/ebpf's handles
	// also hold their perf events, which bpftool would find.
	uLink.Close()
	tLink.Close()
	pid := float64(sleeper.Pid)
	// The helper's descriptors are 3, 4, 5... in that order.
	want := []string{
		fmt.Sprintf(`{"pid":%d,"fd":3,"prog_id":%d,"fd_type":"tracepoint","tracepoint":"sys_enter_getppid"}`, sleeper.Pid, tpID),
		fmt.Sprintf(`{"pid":%d,"fd":4,"prog_id":%d,"fd_type":"uprobe","filename":"%s","offset":%d}`, sleeper.Pid, upID, exe, offset),
		fmt.Sprintf(`{"pid":%d,"fd":5,"prog_id":%d,"fd_type":"raw_tracepoint","tracepoint":"sys_exit"}`, sleeper.Pid, rawID),
	}
	out, err := runBinary(t, "-j", "perf", "show")
	if err != nil {
		t.Fatal(err)
	}
	ofHelper := func(m map[string]any) bool { return m["pid"] == pid }
	got := perfEntries(t, out, ofHelper)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("perf show -j, the helper's entries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for name, run := range map[string]func(...string) []byte{
		"bpftool 7.8": func(a ...string) []byte { return testutil.Bpftool78Output(t, a...) },
		"bpftool 7.1": func(a ...string) []byte { return testutil.BpftoolOutput(t, a...) },
	} {
		theirs := perfEntries(t, run("-j", "perf", "show"), ofHelper)
		if strings.Join(theirs, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s perf show -j, the helper's entries:\n%s\nbpfkit:\n%s", name, strings.Join(theirs, "\n"), strings.Join(got, "\n"))
		}
		linked := perfEntries(t, run("-j", "perf", "show"), func(m map[string]any) bool {
			return m["prog_id"] == float64(ulID) || m["prog_id"] == float64(tlID)
		})
		if len(linked) != 0 {
			t.Errorf("%s now lists perf_event links held alone: %v", name, linked)
		}
	}
	// Linux < 6.6 tells only a perf_event link's type and program.
	linkInfo := testutil.Has(t, "perf_link_info")
	links := perfEntries(t, out, func(m map[string]any) bool {
		_, ok := m["link_id"]
		return ok && (m["prog_id"] == float64(ulID) || m["prog_id"] == float64(tlID))
	})
	holders := fmt.Sprintf(`"pids":[{"pid":%d,"comm":"sleep"}`, sleeper.Pid)
	wantLinks := []string{
		fmt.Sprintf(`{"link_id":%d,"prog_id":%d,"fd_type":"uprobe","filename":"%s","offset":%d,`, uLinkID, ulID, exe, fileOffset(t, exe, "a64l")),
		fmt.Sprintf(`{"link_id":%d,"prog_id":%d,"fd_type":"tracepoint","tracepoint":"sys_exit_getppid",`, tLinkID, tlID),
	}
	if linkInfo && (len(links) != 2 || !strings.HasPrefix(links[0], wantLinks[0]) || !strings.HasPrefix(links[1], wantLinks[1]) ||
		!strings.Contains(links[0], holders) || !strings.Contains(links[1], holders)) {
		t.Errorf("perf show -j, the links:\n%s\nwant\n%s... with %s", strings.Join(links, "\n"), strings.Join(wantLinks, "...\n"), holders)
	}

	text, err := runBinary(t, "perf")
	if err != nil {
		t.Fatal(err)
	}
	p := strconv.Itoa(sleeper.Pid)
	rows := [][]string{
		{p, "3", itoa(tpID), "tracepoint", "sys_enter_getppid", "-", "-"},
		{p, "4", itoa(upID), "uprobe", exe, strconv.FormatUint(offset, 10)},
		{p, "5", itoa(rawID), "raw_tracepoint", "sys_exit"},
	}
	if linkInfo {
		rows = append(rows, []string{"-", "-", itoa(ulID), "uprobe", exe},
			[]string{"-", "-", itoa(tlID), "tracepoint", "sys_exit_getppid", "-", itoa(tLinkID), "sleep(" + p + ")"})
	}
	for _, row := range rows {
		if !hasRow(string(text), row...) {
			t.Errorf("perf show: no row %q", row)
		}
	}

	t.Run("kprobe", func(t *testing.T) {
		// The development VM's kernel has no kprobes (CONFIG_KPROBES is
		// off); the qemu guest's has (make vmtest).
		testutil.Requires(t, "kprobes")
		kp, kpID := returnProg(t, "i10_perf_kp", ebpf.Kprobe, ebpf.AttachNone, 0)
		l, err := link.Kprobe("do_sys_openat2", kp, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		mine := func(m map[string]any) bool { return m["prog_id"] == float64(kpID) && m["pid"] != nil }
		out, err := runBinary(t, "-j", "perf")
		if err != nil {
			t.Fatal(err)
		}
		got := perfEntries(t, out, mine)
		want := perfEntries(t, testutil.Bpftool78Output(t, "-j", "perf"), mine)
		if len(got) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") || !strings.Contains(got[0], `"fd_type":"kprobe","func":"do_sys_openat2","offset":0`) {
			t.Errorf("perf show -j, the kprobe:\n%s\nbpftool 7.8:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// runBinary runs the bpfkit binary (another process than the test, so
// that the test's own descriptors count as another process's) and returns
// its stdout.
func runBinary(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	out, err := execOutput(binPath, args...)
	if err != nil {
		return nil, fmt.Errorf("bpfkit %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}
