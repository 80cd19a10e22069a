package main

// Tests that need what some kernels lack: kprobes, kretprobes, ksyscall,
// kprobe.multi (fprobe), fentry/fexit/fmod_ret (BPF trampolines), the BPF
// LSM and uprobes. Each declares what it needs with testutil.Requires: on
// a kernel without it (this project's development VM has no kprobes and
// refuses trampolines) the test skips by design, and `make vmtest` runs it
// in a qemu guest booting Debian's kernel, where BPFKIT_REQUIRE makes the
// same skip a failure. The test objects are in testdata/kernel.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// kernelObj is the absolute path of a committed kernel-matrix test object.
func kernelObj(t *testing.T, name string) string {
	p, err := filepath.Abs(testutil.Object(t, "kernel/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runStart and runSummary are what the tests read of run's first and last
// JSON lines.
type runStart struct {
	Attached []struct {
		Program string `json:"program"`
		Hook    string `json:"hook"`
		LinkID  uint32 `json:"link_id"`
	} `json:"attached"`
	Sources []struct {
		Map string `json:"map"`
		ID  uint32 `json:"id"`
	} `json:"sources"`
}

type runSummary struct {
	Summary struct {
		Programs []struct {
			Name      string `json:"name"`
			ID        uint32 `json:"id"`
			RunCnt    uint64 `json:"run_cnt"`
			RunTimeNs int64  `json:"run_time_ns"`
		} `json:"programs"`
	} `json:"summary"`
}

// runRecord is one decoded record `bpfkit -j run` printed.
type runRecord struct {
	Map       string         `json:"map"`
	Type      string         `json:"type"`
	Formatted map[string]any `json:"formatted"`
}

func (r runRecord) num(field string) int64 {
	n, _ := r.Formatted[field].(json.Number).Int64()
	return n
}

func (r runRecord) str(field string) string {
	s, _ := r.Formatted[field].(string)
	return s
}

// kernelRun runs `bpfkit -j run ARGS... OBJ` in a child process, calls
// trigger every 100ms until done accepts the records so far (or a minute
// passes: the guest emulates its CPUs), ends the run with SIGTERM, and
// checks that every program, map and link it made is gone. It returns the
// start line.
func kernelRun(t *testing.T, obj string, args []string, trigger func(), done func([]runRecord) bool) runStart {
	t.Helper()
	cmd, lines, stderr := startBpfkit(t, append(append([]string{"-j", "run"}, args...), obj)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bpfkit stderr: %s", stderr)
		}
	})
	timeout := time.After(time.Minute)
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("bpfkit run ended early")
			}
			return l
		case <-timeout:
			t.Fatalf("timed out waiting for bpfkit run")
		}
		return ""
	}
	var start runStart
	if l := next(); json.Unmarshal([]byte(l), &start) != nil || len(start.Attached) == 0 {
		t.Fatalf("start line %q", l)
	}
	for _, a := range start.Attached {
		if a.LinkID == 0 {
			t.Errorf("%s attached to %s without a link ID", a.Program, a.Hook)
		}
	}

	var recs []runRecord
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	trigger()
	for !done(recs) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("bpfkit run ended early; records: %+v", recs)
			}
			dec := json.NewDecoder(strings.NewReader(l))
			dec.UseNumber()
			var r runRecord
			if err := dec.Decode(&r); err != nil || r.Formatted == nil {
				t.Fatalf("record line %q: %v", l, err)
			}
			recs = append(recs, r)
		case <-tick.C:
			trigger()
		case <-timeout:
			t.Fatalf("timed out; records: %+v", recs)
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	var sum runSummary
	for {
		l := next()
		if strings.HasPrefix(l, `{"summary":`) {
			if err := json.Unmarshal([]byte(l), &sum); err != nil {
				t.Fatalf("summary %q: %v", l, err)
			}
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bpfkit run: %v\n%s", err, stderr)
	}
	ids := map[string][]uint32{}
	for _, a := range start.Attached {
		ids["link"] = append(ids["link"], a.LinkID)
	}
	for _, s := range start.Sources {
		ids["map"] = append(ids["map"], s.ID)
	}
	for _, p := range sum.Summary.Programs {
		ids["prog"] = append(ids["prog"], p.ID)
		if p.RunCnt == 0 && p.RunTimeNs != 0 {
			t.Errorf("program %s: run_time_ns %d with run_cnt 0", p.Name, p.RunTimeNs)
		}
	}
	testutil.AssertGone(t, ids)
	return start
}

// hooks lists the start line's hooks.
func hooks(s runStart) []string {
	var out []string
	for _, a := range s.Attached {
		out = append(out, a.Hook)
	}
	slices.Sort(out)
	return out
}

// ownComm is what bpf_get_current_comm returns in this process.
func ownComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// kinds returns the kinds of the records of struct event from pid.
func kinds(recs []runRecord, pid int, comm string) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range recs {
		if r.Type == "struct event" && r.num("pid") == int64(pid) && r.str("comm") == comm {
			out[r.num("kind")] = true
		}
	}
	return out
}

func targPID() []string { return []string{"--set", fmt.Sprintf("targ_pid=%d", os.Getpid())} }

func readHostname() { os.ReadFile("/etc/hostname") }

// unlinker returns a trigger that creates and unlinks dir/name through a
// directory descriptor, so that unlinkat(2) gets the bare name.
func unlinker(t *testing.T, name string) func() {
	dir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	dfd := int(dir.Fd())
	return func() {
		fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
		if err != nil {
			t.Errorf("create %s: %v", name, err)
			return
		}
		unix.Close(fd)
		if err := unix.Unlinkat(dfd, name, 0); err != nil {
			t.Errorf("unlink %s: %v", name, err)
		}
	}
}

// TestKernelRunKprobe: `run -j` on the kprobe and kretprobe of
// do_sys_openat2 decodes the records of the files this process opens.
func TestKernelRunKprobe(t *testing.T) {
	testutil.Requires(t, "kprobes", "kretprobes")
	pid, comm := os.Getpid(), ownComm(t)
	start := kernelRun(t, testutil.Object(t, "loader/kprobe"), targPID(), readHostname, func(recs []runRecord) bool {
		k := kinds(recs, pid, comm)
		return k[2] && k[3]
	})
	if got := hooks(start); !slices.Equal(got, []string{"kprobe do_sys_openat2", "kretprobe do_sys_openat2"}) {
		t.Errorf("hooks %v", got)
	}
}

// TestKernelRunKsyscall: ksyscall/unlinkat records the path this process
// unlinks; kretsyscall its return.
func TestKernelRunKsyscall(t *testing.T) {
	testutil.Requires(t, "ksyscall", "kretprobes")
	pid, comm := os.Getpid(), ownComm(t)
	var path bool
	start := kernelRun(t, kernelObj(t, "ksyscall"), targPID(), unlinker(t, "vmt_ksyscall"), func(recs []runRecord) bool {
		for _, r := range recs {
			path = path || (r.num("kind") == 7 && r.str("data") == "vmt_ksyscall")
		}
		k := kinds(recs, pid, comm)
		return path && k[7] && k[8]
	})
	if got := hooks(start); !slices.Equal(got, []string{"kretsyscall unlinkat (__x64_sys_unlinkat)", "ksyscall unlinkat (__x64_sys_unlinkat)"}) {
		t.Errorf("hooks %v", got)
	}
}

// TestKernelRunKprobeMulti: kprobe.multi and kretprobe.multi on a pattern
// matching do_unlinkat.
func TestKernelRunKprobeMulti(t *testing.T) {
	testutil.Requires(t, "kprobe_multi")
	pid, comm := os.Getpid(), ownComm(t)
	start := kernelRun(t, kernelObj(t, "kprobe_multi"), targPID(), unlinker(t, "vmt_kmulti"), func(recs []runRecord) bool {
		k := kinds(recs, pid, comm)
		return k[11] && k[12]
	})
	if got := hooks(start); !slices.Equal(got, []string{"kprobe.multi do_unlinka? (1 functions)", "kretprobe.multi do_unlinka? (1 functions)"}) {
		t.Errorf("hooks %v", got)
	}
}

// TestKernelRunFentry: fentry and fexit on do_sys_openat2 send ring buffer
// records of this process's opens.
func TestKernelRunFentry(t *testing.T) {
	testutil.Requires(t, "trampolines")
	pid, comm := os.Getpid(), ownComm(t)
	start := kernelRun(t, testutil.Object(t, "loader/fentry"), targPID(), readHostname, func(recs []runRecord) bool {
		k := kinds(recs, pid, comm)
		return k[4] && k[5]
	})
	if got := hooks(start); !slices.Equal(got, []string{"fentry do_sys_openat2", "fexit do_sys_openat2"}) {
		t.Errorf("hooks %v", got)
	}
}

// TestKernelRunFmodRet: while the fmod_ret program is attached, getpgid(2)
// of this process fails with the error it returns, and each call is
// recorded; once the run ends, getpgid works again.
func TestKernelRunFmodRet(t *testing.T) {
	testutil.Requires(t, "fmod_ret")
	pid, comm := os.Getpid(), ownComm(t)
	var refused bool
	getpgid := func() {
		_, err := syscall.Getpgid(pid) // a pid, not 0: only then does the kernel ask the LSM hook
		refused = refused || errors.Is(err, syscall.ENOTRECOVERABLE)
	}
	start := kernelRun(t, kernelObj(t, "fmod_ret"), targPID(), getpgid, func(recs []runRecord) bool {
		return refused && kinds(recs, pid, comm)[13]
	})
	if got := hooks(start); !slices.Equal(got, []string{"fmod_ret security_task_getpgid"}) {
		t.Errorf("hooks %v", got)
	}
	if _, err := syscall.Getpgid(pid); err != nil {
		t.Errorf("getpgid after the run: %v", err)
	}
}

// TestKernelRunLSM: the lsm/file_open program records the names of the
// files this process opens and refuses vmt_lsm_denied with EPERM; after
// the run the file opens again.
func TestKernelRunLSM(t *testing.T) {
	testutil.Requires(t, "lsm")
	dir := t.TempDir()
	allowed, denied := filepath.Join(dir, "vmt_lsm_allowed"), filepath.Join(dir, "vmt_lsm_denied")
	for _, p := range []string{allowed, denied} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var refused bool
	open := func() {
		if _, err := os.ReadFile(allowed); err != nil {
			t.Errorf("open %s: %v", allowed, err)
		}
		_, err := os.ReadFile(denied)
		refused = refused || errors.Is(err, syscall.EPERM)
	}
	pid, comm := os.Getpid(), ownComm(t)
	start := kernelRun(t, kernelObj(t, "lsm_open"), targPID(), open, func(recs []runRecord) bool {
		names := map[string]bool{}
		for _, r := range recs {
			if r.num("kind") == 14 && r.num("pid") == int64(pid) && r.str("comm") == comm {
				names[r.str("data")] = true
			}
		}
		return refused && names["vmt_lsm_allowed"] && names["vmt_lsm_denied"]
	})
	if got := hooks(start); !slices.Equal(got, []string{"lsm file_open"}) {
		t.Errorf("hooks %v", got)
	}
	if _, err := os.ReadFile(denied); err != nil {
		t.Errorf("open %s after the run: %v", denied, err)
	}
}

// buildUprobeTarget compiles testdata/kernel/uprobe_target.c as
// vmt_uprobe_target in a directory it puts first on PATH, where the
// uretprobe object's sections find it.
func buildUprobeTarget(t *testing.T) string {
	t.Helper()
	cc := testutil.RequireTool(t, "clang")
	dir := t.TempDir()
	bin := filepath.Join(dir, "vmt_uprobe_target")
	if out, err := exec.Command(cc, "-O2", "-o", bin, testutil.Testdata(t, "kernel/uprobe_target.c")).CombinedOutput(); err != nil {
		t.Fatalf("build the uprobe target: %v\n%s", err, out)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return bin
}

// TestKernelRunUretprobe: a uprobe and a uretprobe on vmt_sum of a small
// program the test builds and runs: the records carry each call's
// arguments and result.
func TestKernelRunUretprobe(t *testing.T) {
	testutil.Requires(t, "uprobes")
	bin := buildUprobeTarget(t)
	run := func() {
		if out, err := exec.Command(bin, "3").Output(); err != nil || string(out) != "6\n" {
			t.Errorf("%s 3: %q %v", bin, out, err)
		}
	}
	start := kernelRun(t, kernelObj(t, "uretprobe"), nil, run, func(recs []runRecord) bool {
		var calls, rets []string
		for _, r := range recs {
			if r.Type != "struct call" || r.str("comm") != "vmt_uprobe_targ" {
				continue
			}
			switch r.num("kind") {
			case 9:
				calls = append(calls, fmt.Sprintf("%d+%d", r.num("a"), r.num("b")))
			case 10:
				rets = append(rets, fmt.Sprint(r.num("ret")))
			}
		}
		// One run of the target: vmt_sum(0,1)=1, (1,2)=3, (3,3)=6.
		return strings.Contains(strings.Join(calls, " "), "0+1 1+2 3+3") && strings.Contains(strings.Join(rets, " "), "1 3 6")
	})
	if got := hooks(start); !slices.Equal(got, []string{"uprobe vmt_uprobe_target:vmt_sum", "uretprobe vmt_uprobe_target:vmt_sum"}) {
		t.Errorf("hooks %v", got)
	}
}

// compareLinkWith compares `bpfkit -j link show id ID` with what the
// bpftool binary prints for the same link: every field bpftool prints,
// with its value, in bpftool's order.
func compareLinkWith(t *testing.T, bpftool string, id uint32) {
	t.Helper()
	cmd := exec.Command(bpftool, "-j", "link", "show", "id", itoa(id))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	want, err := cmd.Output()
	if err != nil {
		// bpftool 7.8 prints a perf_event link by id correctly and then
		// exits 255 without a word (its status comes from a stale errno).
		if stderr.Len() != 0 || !strings.HasPrefix(string(want), "{") {
			t.Fatalf("%s -j link show id %d: %v: %s", bpftool, id, err, stderr.String())
		}
		t.Logf("%s -j link show id %d printed the link, then exited with %v", bpftool, id, err)
	}
	got := mustBpfkit(t, "-j", "link", "show", "id", itoa(id))
	what := fmt.Sprintf("link %d (%s)", id, filepath.Base(filepath.Dir(bpftool))+"/"+filepath.Base(bpftool))
	w, g := testutil.DecodeJSON[map[string]any](t, want), testutil.DecodeJSON[map[string]any](t, []byte(got))
	order := fieldOrder(t, want)
	typ, _ := w["type"].(string)
	for field, why := range knownLinkGaps[typ] {
		if _, ok := g[field]; !ok && w[field] != nil {
			t.Logf("%s: known gap, not compared: bpfkit lacks %q (bpftool: %v): %s", what, field, w[field], why)
			delete(w, field)
			order = slices.DeleteFunc(order, func(k string) bool { return k == field })
		}
	}
	sameFields(t, what, w, g)
	sameOrder(t, what, order, fieldOrder(t, []byte(got)))
}

// knownLinkGaps are fields bpftool prints for a link type that bpfkit does
// not print yet, by link type. While bpfkit lacks one, the comparison logs
// it instead of failing; once bpfkit prints it, it is compared.
//
// Only kernels the development VM is not show them: it can make neither
// tracing links (trampolines) nor kprobe or kprobe_multi links.
var knownLinkGaps = map[string]map[string]string{
	// bpftool 7.8 prints info.tracing.cookie (0 where the kernel, like
	// 6.1, has no such field).
	"tracing": {"cookie": "objects.LinkInfoOf adds no cookie for tracing links"},
	// bpftool 7.8 prints a kprobe perf_event link's cookie (Linux >= 6.6
	// describes perf_event links); cilium/ebpf's KprobeInfo has none.
	"perf_event": {"cookie": "objects.LinkInfoOf adds no cookie for kprobe perf_event links"},
	// bpftool 7.8 lists a kprobe_multi link's functions: addr, func,
	// module, cookie of each.
	"kprobe_multi": {"funcs": "objects.LinkInfoOf lists no funcs of kprobe_multi links"},
}

// TestKernelLoadallLinks: `prog loadall OBJ DIR pinmaps DIR autoattach`
// pins a link for every program of each kernel-matrix object, and
// `link show -j` of every link kind prints what bpftool 7.1 and 7.8 print
// for the same link ID. Removing the pins unloads everything.
func TestKernelLoadallLinks(t *testing.T) {
	testutil.RequirePrivileged(t)
	bpftool71 := testutil.RequireTool(t, "bpftool")
	bpftool78 := testutil.Bpftool78Path(t)
	for _, tc := range []struct {
		obj   string
		needs []string
		// links by program: bpftool's "type" and, for tracing links,
		// "attach_type".
		links map[string]string
	}{
		{testutil.Object(t, "loader/kprobe"), []string{"kprobes", "kretprobes"}, map[string]string{"kprobe_openat2": "perf_event", "kretprobe_openat2": "perf_event"}},
		{kernelObj(t, "ksyscall"), []string{"ksyscall", "kretprobes"}, map[string]string{"vmt_ks_unlink": "perf_event", "vmt_kret_unlink": "perf_event"}},
		{kernelObj(t, "kprobe_multi"), []string{"kprobe_multi"}, map[string]string{"vmt_km_unlink": "kprobe_multi", "vmt_kmr_unlink": "kprobe_multi"}},
		{testutil.Object(t, "loader/fentry"), []string{"trampolines"}, map[string]string{"fentry_openat2": "tracing trace_fentry", "fexit_openat2": "tracing trace_fexit"}},
		{kernelObj(t, "fmod_ret"), []string{"fmod_ret"}, map[string]string{"vmt_fmod_pgid": "tracing modify_return"}},
		{kernelObj(t, "lsm_open"), []string{"lsm"}, map[string]string{"vmt_lsm_open": "tracing lsm_mac"}},
		{testutil.Object(t, "loader/lsm"), []string{"lsm"}, map[string]string{"lsm_file_open": "tracing lsm_mac"}},
		{kernelObj(t, "uretprobe"), []string{"uprobes"}, map[string]string{"vmt_sum_enter": "perf_event", "vmt_sum_exit": "perf_event"}},
	} {
		name := strings.TrimSuffix(filepath.Base(tc.obj), ".bpf.o")
		t.Run(name, func(t *testing.T) {
			testutil.Requires(t, tc.needs...)
			if name == "uretprobe" {
				buildUprobeTarget(t)
			}
			dir := testutil.PinDir(t)
			progs, maps := filepath.Join(dir, "progs"), filepath.Join(dir, "maps")
			if r := bpfkit(t, "-j", "prog", "loadall", tc.obj, progs, "pinmaps", maps, "autoattach"); r.code != 0 || r.stdout != "null\n" {
				t.Fatalf("loadall: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			ids := pinnedIDs(t, progs, maps)
			defer testutil.AssertGone(t, ids)
			defer os.RemoveAll(dir)
			for prog, want := range tc.links {
				path := filepath.Join(progs, prog)
				var l struct {
					ID         uint32 `json:"id"`
					Type       string `json:"type"`
					AttachType string `json:"attach_type"`
				}
				if err := json.Unmarshal([]byte(mustBpfkit(t, "-j", "link", "show", "pinned", path)), &l); err != nil {
					t.Fatalf("link show pinned %s: %v", path, err)
				}
				if got := strings.TrimSpace(l.Type + " " + l.AttachType); got != want {
					t.Errorf("%s: link %q, want %q", prog, got, want)
				}
				compareLinkWith(t, bpftool71, l.ID)
				compareLinkWith(t, bpftool78, l.ID)
			}
			if len(ids["link"]) != len(tc.links) {
				t.Errorf("pinned links %v, want %d", ids["link"], len(tc.links))
			}
		})
	}
}

// perfLinkDetail returns want where the kernel describes perf_event links
// (Linux 6.6), and "" (found in any output) where it tells only their
// type and program, as Debian 12's 6.1 does.
func perfLinkDetail(t *testing.T, want string) string {
	t.Helper()
	if !testutil.Has(t, "perf_link_info") {
		return ""
	}
	return want
}
