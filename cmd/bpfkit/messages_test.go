package main

// Messages (issue 17, items 6 and 7, second part): each case once gave a
// misleading answer or invalid output.

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

// i17bDir is a pin directory /sys/fs/bpf/i17b_<name>, made with mode,
// removed with everything under it when the test ends.
func i17bDir(t *testing.T, name string, mode os.FileMode) string {
	t.Helper()
	testutil.RequirePrivileged(t)
	p := "/sys/fs/bpf/i17b_" + name
	os.RemoveAll(p)
	if err := os.Mkdir(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(p) })
	return p
}

// TestQueueVerbsOnOtherMaps: peek, pop, dequeue, push and enqueue on a
// map type without that operation say so. bpftool 7.8 answers "lookup
// failed: Unknown error 524" (peek on a ring buffer), "empty map" (pop on
// a hash) and "did not find key"; bpfkit said the same or talked about
// marshalling a key. peek with a key stays a lookup, as in bpftool.
func TestQueueVerbsOnOtherMaps(t *testing.T) {
	dir := i17bDir(t, "queueverbs", 0o700)
	rb, h := dir+"/rb", dir+"/h"
	mustBpfkit(t, "map", "create", rb, "type", "ringbuf", "key", "0", "value", "0", "entries", "4096", "name", "i17b_rb")
	mustBpfkit(t, "map", "create", h, "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "i17b_h")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"map", "peek", "pinned", rb}, "peek map: ringbuf maps have no peek: only queue, stack and bloom filter maps have it; use map event_pipe"},
		{[]string{"map", "pop", "pinned", rb}, "pop map: ringbuf maps have no pop: only queue and stack maps have it; use map event_pipe"},
		{[]string{"map", "pop", "pinned", h}, "pop map: hash maps have no pop: only queue and stack maps have it; use map lookup and map delete"},
		{[]string{"map", "dequeue", "pinned", h}, "dequeue map: hash maps have no dequeue: only queue and stack maps have it"},
		{[]string{"map", "peek", "pinned", h}, "peek map: hash maps have no peek: only queue, stack and bloom filter maps have it; use map lookup MAP key KEY"},
		{[]string{"map", "push", "pinned", h, "value", "1", "0", "0", "0"}, "push map: hash maps have no push: only queue, stack and bloom filter maps have it; use map update"},
		{[]string{"map", "enqueue", "pinned", h, "value", "1", "0", "0", "0"}, "enqueue map: hash maps have no enqueue: only queue and stack maps have it"},
	} {
		r := bpfkit(t, c.args...)
		if r.code != 255 || r.stderr != "Error: "+c.want+"\n" && !strings.HasPrefix(r.stderr, "Error: "+c.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q, want one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	// With a key, peek is lookup.
	if r := bpfkit(t, "map", "peek", "pinned", h, "key", "1", "0", "0", "0"); r.code != 254 || !strings.Contains(r.stdout, "Not found") {
		t.Errorf("peek with a key on a hash: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestPinWithoutWritePermission: a process with CAP_BPF (and
// CAP_SYS_ADMIN) but no write permission on the pin directory was told
// it needs root; it is told which directory it may not write, and the
// map it would have made is not created.
func TestPinWithoutWritePermission(t *testing.T) {
	setpriv := testutil.RequireTool(t, "setpriv")
	ro := i17bDir(t, "readonly", 0o555)
	src := i17bDir(t, "pinsrc", 0o700)
	mustBpfkit(t, "map", "create", src+"/m", "type", "array", "key", "4", "value", "4", "entries", "1", "name", "i17b_pinsrc")
	var made struct {
		ID uint32 `json:"id"`
	}
	if err := json.Unmarshal([]byte(mustBpfkit(t, "-j", "map", "show", "pinned", src+"/m")), &made); err != nil {
		t.Fatal(err)
	}
	before := testutil.CountByName("i17b_ro")
	for _, args := range [][]string{
		{"map", "create", ro + "/m", "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "i17b_ro"},
		{"map", "pin", "id", itoa(made.ID), ro + "/again"}, // by id: CAP_SYS_ADMIN, no path to search
	} {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps=-all,+bpf,+sys_admin,+perfmon", "--ambient-caps=-all,+bpf,+sys_admin,+perfmon", binPath}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		msg := stderr.String()
		want := "no write permission on directory " + ro + " (mode 0555, owner uid 0"
		if err == nil || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, want) || strings.Contains(msg, "needs root") {
			t.Errorf("%q with CAP_BPF as uid 65534: %v, stderr %q, want one line with %q", args, err, msg, want)
		}
	}
	if entries, _ := os.ReadDir(ro); len(entries) != 0 {
		t.Errorf("%s holds %d entries", ro, len(entries))
	}
	testutil.WaitCountsAtMost(t, before, "i17b_ro")
}

// btfBlob is a little-endian BTF blob of one int type named name.
func btfBlob(name string) []byte {
	strs := "\x00" + name + "\x00"
	types := []uint32{1, 1 << 24, 4, 0x01000020} // [1] INT 'name' size 4 bits 32 signed
	var tb bytes.Buffer
	binary.Write(&tb, binary.LittleEndian, types)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint16(0xeb9f))
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, []uint32{24, 0, uint32(tb.Len()), uint32(tb.Len()), uint32(len(strs))})
	b.Write(tb.Bytes())
	b.WriteString(strs)
	return b.Bytes()
}

// TestBTFJSONEscapesBytes: BTF names are bytes. bpftool 7.8's
// json_writer copies bytes that are not UTF-8 into its JSON, which is
// then invalid (bpfkit did too); bpfkit writes each such byte as \u00XX
// (the code point of its value, so it can be read back) and copies valid
// UTF-8 as it is.
func TestBTFJSONEscapesBytes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, decoded string }{
		{"i17b_\xff\xfe", "i17b_\u00ff\u00fe"},
		{"i17b_\xc3(", "i17b_\u00c3("},
		{"i17b_é\x80", "i17b_é\u0080"},
		{"i17b_é", "i17b_é"},
	} {
		f := filepath.Join(dir, "btf")
		if err := os.WriteFile(f, btfBlob(c.name), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, flag := range []string{"-j", "-p"} {
			r := bpfkit(t, flag, "btf", "dump", "file", f)
			if r.code != 0 {
				t.Fatalf("%s btf dump %q: exit %d: %s", flag, c.name, r.code, r.stderr)
			}
			if !json.Valid([]byte(r.stdout)) {
				t.Errorf("%s btf dump %q: invalid JSON %q", flag, c.name, r.stdout)
				continue
			}
			var got struct {
				Types []struct {
					Name string `json:"name"`
				} `json:"types"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Types) != 1 || got.Types[0].Name != c.decoded {
				t.Errorf("%s btf dump %q: %v, decoded %+v, want name %q", flag, c.name, err, got, c.decoded)
			}
		}
	}
}

// jumpChain writes an assembly file whose program i17b_jumps has n
// conditional jumps in a row on an unknown value: the verifier keeps a
// state for each branch not taken and gives up past 8192 of them.
func jumpChain(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(".section socket\n.func i17b_jumps global\n\tr6 = *(u32 *)(r1 +0)\n\tr7 = 0\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\tif r6 == 0x7fffffff goto L%d\n\tr7 += 1\nL%d:\n", i, i)
	}
	b.WriteString("\tr0 = r7\n\texit\n")
	src := filepath.Join(t.TempDir(), "jumps.s")
	if err := os.WriteFile(src, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	obj := strings.TrimSuffix(src, ".s") + ".o"
	mustBpfkit(t, "asm", "build", src, obj)
	return obj
}

// kernelVersion is LINUX_KERNEL_VERSION as cilium/ebpf computes it: the
// LINUX_VERSION_CODE in the "Linux" note of the vDSO, which is a
// distribution kernel's real version where uname's release is not
// (Debian's 6.1.0-57-cloud-amd64 is 6.1.1xx).
func kernelVersion(t *testing.T) uint32 {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	var start, end uint64
	for _, line := range strings.Split(string(maps), "\n") {
		if strings.HasSuffix(line, "[vdso]") {
			fmt.Sscanf(line, "%x-%x", &start, &end)
		}
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	image := make([]byte, end-start)
	if _, err := mem.ReadAt(image, int64(start)); err != nil || start == 0 {
		t.Fatalf("read the vDSO (%#x-%#x): %v", start, end, err)
	}
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		t.Fatalf("the vDSO: %v", err)
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOTE {
			continue
		}
		notes, err := sec.Data()
		if err != nil {
			t.Fatal(err)
		}
		// Notes: namesz, descsz, type, then the name and the descriptor,
		// each padded to 4 bytes.
		for len(notes) >= 12 {
			namesz, descsz := binary.NativeEndian.Uint32(notes), binary.NativeEndian.Uint32(notes[4:])
			name := notes[12:]
			desc := name[(namesz+3)&^3:]
			if string(name[:namesz]) == "Linux\x00" && descsz == 4 {
				return binary.NativeEndian.Uint32(desc)
			}
			notes = desc[(descsz+3)&^3:]
		}
	}
	t.Fatal("the vDSO has no Linux version note")
	return 0
}

// TestLoadFailureMessages: loads that once failed with a misleading
// message. The kernel answers EFAULT when the verifier gives up on "The
// sequence of 8193 jumps is too complex"; cilium/ebpf drops the log and
// calls every EFAULT a verifier bug, and -d showed no log: bpfkit
// verifies the program again for its log, names the complaint and prints
// the log (its tail, all of it with -d). A .kconfig LINUX_KERNEL_VERSION
// typed __u32 was refused as the kernel's rejection where it was
// cilium/ebpf's limitation: the loader resolves the typedef, and the
// program reads the kernel's version.
func TestLoadFailureMessages(t *testing.T) {
	testutil.RequirePrivileged(t)
	jumps := jumpChain(t, 8200)
	const complaint = "The sequence of 8193 jumps is too complex."
	pin := "/sys/fs/bpf/i17b_loadmsg"
	os.Remove(pin)
	t.Cleanup(func() { os.Remove(pin) })
	for _, c := range []struct {
		args     []string
		last     string // the error line
		logLines int    // at least this many lines before it
		full     bool   // the whole log, not its tail
	}{
		{[]string{"prog", "load", jumps, pin}, "Error: prog load: program i17b_jumps (section socket) rejected by the verifier: bad address: " + complaint, 20, false},
		{[]string{"-d", "prog", "load", jumps, pin}, "Error: prog load: program i17b_jumps (section socket) rejected by the verifier: bad address: " + complaint, 16000, true},
		{[]string{"prog", "loadall", jumps, pin}, "rejected by the verifier: bad address: " + complaint, 20, false},
		{[]string{"run", "--duration", "1s", jumps}, "rejected by the verifier: bad address: " + complaint, 20, false},
	} {
		r := bpfkit(t, c.args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		last := lines[len(lines)-1]
		if r.code == 0 || !strings.HasPrefix(last, "Error: ") || !strings.HasSuffix(last, c.last) || strings.Contains(r.stderr, "verifier bug") {
			t.Errorf("%q: exit %d, error line %q, want one ending %q", c.args, r.code, last, c.last)
		}
		if len(lines) < c.logLines+1 || !strings.Contains(strings.Join(lines[:len(lines)-1], "\n"), complaint) {
			t.Errorf("%q: %d lines of log before the error, want at least %d with %q", c.args, len(lines)-1, c.logLines, complaint)
		}
		if tail := strings.Contains(lines[0], "-d prints it all"); tail == c.full {
			t.Errorf("%q: log header %q", c.args, lines[0])
		}
		if exists(pin) {
			t.Errorf("%q left %s", c.args, pin)
			os.RemoveAll(pin)
		}
	}
	testutil.WaitCountsAtMost(t, testutil.Counts{}, "i17b_jumps")

	// .kconfig through a typedef: loads, and the program returns the
	// version the loader filled in.
	mustBpfkit(t, "prog", "load", testutil.Object(t, "loader/kconfig_typedef"), pin)
	data := filepath.Join(t.TempDir(), "packet")
	if err := os.WriteFile(data, make([]byte, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran struct {
		Retval uint32 `json:"retval"`
	}
	out := mustBpfkit(t, "-j", "prog", "run", "pinned", pin, "data_in", data)
	if err := json.Unmarshal([]byte(out), &ran); err != nil || ran.Retval != kernelVersion(t) {
		t.Errorf("kconfig_typedef returned %q (%v), want LINUX_KERNEL_VERSION %d", out, err, kernelVersion(t))
	}
	os.Remove(pin)
	testutil.WaitCountsAtMost(t, testutil.Counts{}, "i17b_kconfig")
}

// TestLoadWithCAPBPFOnly: a process with CAP_BPF but not CAP_PERFMON
// cannot load a tracepoint program; the kernel's EPERM was blamed on
// RLIMIT_MEMLOCK (cilium/ebpf's guess, never right after the loader
// raised the limit); the message names the capabilities instead.
func TestLoadWithCAPBPFOnly(t *testing.T) {
	testutil.RequirePrivileged(t)
	setpriv := testutil.RequireTool(t, "setpriv")
	pin := "/sys/fs/bpf/i17b_capload"
	os.Remove(pin)
	t.Cleanup(func() { os.Remove(pin) })
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		"--inh-caps=-all,+bpf", "--ambient-caps=-all,+bpf", binPath, "prog", "load", testutil.Object(t, "tracepoint"), pin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	msg := stderr.String()
	if err == nil || strings.Count(msg, "\n") != 1 || strings.Contains(msg, "MEMLOCK") ||
		!strings.Contains(msg, "operation not permitted (bpfkit needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN))") {
		t.Errorf("prog load with CAP_BPF only: %v, stderr %q", err, msg)
	}
	if exists(pin) {
		t.Errorf("left %s", pin)
	}
}
