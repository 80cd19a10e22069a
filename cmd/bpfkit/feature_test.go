package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/features"
)

// structOpsMapRE matches the struct_ops map type's line, JSON member or
// macro. On Linux 6.1, bpftool v7.8.0's libbpf 1.8 probe says the type is
// missing though the kernel has had it since 5.6 (cilium/ebpf's probe,
// which bpfkit uses, creates one and says yes).
var structOpsMapRE = regexp.MustCompile(`(?m)^.*map_type struct_ops is.*\n|\s*"have_struct_ops_map_type": ?(true|false),?|^#define \w*STRUCT_OPS_MAP_TYPE\n`)

// kernelBefore reports whether the running kernel is older than
// major.minor.
func kernelBefore(t *testing.T, major, minor int) bool {
	t.Helper()
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(uts.Release[:]), "%d.%d", &ma, &mi); err != nil {
		t.Fatal(err)
	}
	return ma < major || ma == major && mi < minor
}

// probeJSON is `feature probe -j` decoded.
type probeJSON map[string]map[string]any

func helperLists(t *testing.T, p probeJSON) map[string][]string {
	t.Helper()
	lists := map[string][]string{}
	for k, v := range p["helpers"] {
		for _, h := range v.([]any) {
			lists[k] = append(lists[k], h.(string))
		}
	}
	return lists
}

// TestFeatureProbeMatchesBpftool checks every format of `feature probe`
// against bpftool v7.8.0 byte for byte, and the JSON against Debian's
// v7.1.0: the same sections, the same answer for every program type, map
// type and misc feature both know, helper lists that hold all of v7.8's.
func TestFeatureProbeMatchesBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	oldStructOps := kernelBefore(t, 6, 9)
	if oldStructOps {
		t.Log("kernel before 6.9: the struct_ops map type is not compared (bpftool v7.8.0 says no on Linux 6.1, where the type exists)")
	}
	for _, args := range [][]string{
		{"feature", "probe"},
		{"-j", "feature", "probe"},
		{"-p", "feature", "probe", "kernel"},
		{"feature", "probe", "macros", "prefix", "I12_"},
	} {
		want := string(testutil.Bpftool78Output(t, args...))
		got := mustBpfkit(t, args...)
		if oldStructOps {
			want, got = structOpsMapRE.ReplaceAllString(want, ""), structOpsMapRE.ReplaceAllString(got, "")
		}
		if got != want {
			t.Errorf("bpfkit %s differs from bpftool v7.8.0: %s", strings.Join(args, " "), testutil.FirstDiff([]byte(want), []byte(got)))
		}
	}

	ours := testutil.DecodeJSON[probeJSON](t, []byte(mustBpfkit(t, "-j", "feature", "probe")))
	v71 := testutil.BpftoolJSON[probeJSON](t, "feature", "probe")
	v78 := testutil.DecodeJSON[probeJSON](t, testutil.Bpftool78Output(t, "-j", "feature", "probe"))
	for name, theirs := range map[string]probeJSON{"v7.1.0": v71, "v7.8.0": v78} {
		if got, want := sortedKeys(ours), sortedKeys(theirs); !slices.Equal(got, want) {
			t.Errorf("sections %v, bpftool %s has %v", got, name, want)
		}
		for _, sec := range []string{"syscall_config", "program_types", "map_types", "misc"} {
			for k, v := range theirs[sec] {
				if oldStructOps && k == "have_struct_ops_map_type" {
					continue
				}
				if mine, ok := ours[sec][k]; ok && mine != v {
					t.Errorf("%s %s: bpfkit says %v, bpftool %s %v", sec, k, mine, name, v)
				}
			}
		}
	}
	mine, newer, older := helperLists(t, ours), helperLists(t, v78), helperLists(t, v71)
	if len(mine) == 0 {
		t.Fatal("no helper lists")
	}
	for typ, list := range newer {
		for _, h := range list {
			if !slices.Contains(mine[typ], h) {
				t.Errorf("%s: bpftool v7.8.0 lists %s, bpfkit does not", typ, h)
			}
		}
	}
	// v7.1.0's libbpf 1.1 takes a helper to be missing only when the
	// verifier says "invalid func" or "unknown func"; kernels since 6.2
	// say "program of this type cannot use helper", so on them it lists
	// every helper the kernel knows for every type. Its lists can only
	// hold more than bpfkit's.
	known := strings.Fields(string(testutil.BpftoolOutput(t, "feature", "list_builtins", "helpers")))
	for typ, list := range mine {
		if _, ok := older[typ]; !ok {
			continue // a program type v7.1.0 does not know
		}
		for _, h := range list {
			if slices.Contains(known, h) && !slices.Contains(older[typ], h) {
				t.Errorf("%s: bpfkit lists %s, bpftool v7.1.0 does not", typ, h)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestFeatureProbeFull checks that `full` adds the helpers that print to
// the kernel log and nothing else, that it lists what bpftool's `full`
// lists, and that it puts the bpf_trace_printk event back as it was.
func TestFeatureProbeFull(t *testing.T) {
	testutil.RequirePrivileged(t)
	event := "/sys/kernel/tracing/events/bpf_trace/bpf_trace_printk/enable"
	before, err := os.ReadFile(event)
	if err != nil {
		t.Fatalf("read %s: %v", event, err)
	}
	// Start from the event off, so that the probe's switching it on shows.
	if err := os.WriteFile(event, []byte("0"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(event, before, 0) })

	plain := helperLists(t, testutil.DecodeJSON[probeJSON](t, []byte(mustBpfkit(t, "-j", "feature", "probe"))))
	full := helperLists(t, testutil.DecodeJSON[probeJSON](t, []byte(mustBpfkit(t, "-j", "feature", "probe", "full"))))
	if after, _ := os.ReadFile(event); strings.TrimSpace(string(after)) != "0" {
		t.Errorf("bpf_trace_printk event is %q after the probe, was 0", after)
	}
	added := map[string]bool{}
	for typ, list := range full {
		for _, h := range list {
			if !slices.Contains(plain[typ], h) {
				added[h] = true
			}
		}
		for _, h := range plain[typ] {
			if !slices.Contains(list, h) {
				t.Errorf("%s: %s is in the plain probe, not in full", typ, h)
			}
		}
	}
	theirs := helperLists(t, testutil.DecodeJSON[probeJSON](t, testutil.Bpftool78Output(t, "-j", "feature", "probe", "full")))
	// bpftool leaves the event on: the cleanup puts it back.
	wantAdded := map[string]bool{}
	for typ, list := range theirs {
		for _, h := range list {
			if !slices.Contains(full[typ], h) {
				t.Errorf("%s: bpftool v7.8.0 full lists %s, bpfkit does not", typ, h)
			}
			if slices.Contains(features.DmesgHelpers, h) {
				wantAdded[h] = true
			}
		}
	}
	// The dmesg helpers this kernel offers (Linux 6.18 here offers
	// bpf_probe_write_user to no program type that bpftool probes).
	if got, want := sortedKeys(added), sortedKeys(wantAdded); len(got) == 0 || !slices.Equal(got, want) {
		t.Errorf("full adds %v to the plain probe, want the dmesg helpers bpftool's full lists: %v", got, want)
	}
}

// TestFeatureProbeUnprivileged compares `unprivileged` with Debian's
// bpftool (built with libcap; v7.8.0 here is not): the child bpfkit
// starts without the BPF capabilities must find what bpftool finds after
// dropping them.
func TestFeatureProbeUnprivileged(t *testing.T) {
	testutil.RequirePrivileged(t)
	ours := testutil.DecodeJSON[probeJSON](t, []byte(mustBpfkit(t, "-j", "feature", "probe", "unprivileged")))
	theirs := testutil.BpftoolJSON[probeJSON](t, "feature", "probe", "unprivileged")
	for _, sec := range []string{"syscall_config", "program_types", "map_types", "misc"} {
		for k, v := range theirs[sec] {
			if mine, ok := ours[sec][k]; ok && mine != v {
				t.Errorf("%s %s: bpfkit says %v, bpftool %v", sec, k, mine, v)
			}
		}
	}
	mine, bt := helperLists(t, ours), helperLists(t, theirs)
	for typ, list := range bt {
		if !slices.Equal(mine[typ], list) {
			t.Errorf("%s: bpfkit lists %v, bpftool %v", typ, mine[typ], list)
		}
	}
	// The privileged probe finds more: the child really ran without the
	// capabilities (with unprivileged BPF allowed, socket filters load
	// unprivileged, but never everything).
	priv := testutil.DecodeJSON[probeJSON](t, []byte(mustBpfkit(t, "-j", "feature", "probe")))
	if ours["program_types"]["have_xdp_prog_type"] != false || priv["program_types"]["have_xdp_prog_type"] != true {
		t.Errorf("xdp: unprivileged %v, privileged %v; want false and true",
			ours["program_types"]["have_xdp_prog_type"], priv["program_types"]["have_xdp_prog_type"])
	}
	if ours["syscall_config"]["have_bpf_syscall"] != true {
		t.Error("unprivileged probe did not find the bpf() syscall")
	}
}

// TestFeatureProbeMacrosCompile compiles the macros with a C compiler and
// uses the helper test macro the comment block describes.
func TestFeatureProbeMacrosCompile(t *testing.T) {
	testutil.RequirePrivileged(t)
	clang := testutil.RequireTool(t, "clang-14")
	dir := t.TempDir()
	header := mustBpfkit(t, "feature", "probe", "macros", "prefix", "I12_")
	if !strings.Contains(header, "#define I12_HAVE_XDP_PROG_TYPE\n") {
		t.Fatalf("no xdp program type macro in:\n%s", header)
	}
	os.WriteFile(filepath.Join(dir, "features.h"), []byte(header), 0o644)
	src := `#include "features.h"
#if !I12_HAVE_PROG_TYPE_HELPER(xdp, bpf_redirect)
#error "bpf_redirect missing for xdp"
#endif
#if I12_HAVE_PROG_TYPE_HELPER(xdp, bpf_probe_write_user)
#error "bpf_probe_write_user for xdp"
#endif
#ifndef I12_HAVE_BPF_SYSCALL
#error "no syscall macro"
#endif
int hz = I12_CONFIG_HZ;
`
	os.WriteFile(filepath.Join(dir, "use.c"), []byte(src), 0o644)
	cmd := exec.Command(clang, "-Wall", "-Werror", "-c", "-o", filepath.Join(dir, "use.o"), "use.c")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("macros do not compile: %v\n%s", err, out)
	}
}

// TestFeatureListBuiltins compares every group with bpftool v7.8.0, and
// checks that v7.1.0's older lists begin ours.
func TestFeatureListBuiltins(t *testing.T) {
	for _, g := range features.BuiltinGroups {
		want := string(testutil.Bpftool78Output(t, "feature", "list_builtins", g))
		if got := mustBpfkit(t, "feature", "list_builtins", g); got != want {
			t.Errorf("list_builtins %s: %s", g, testutil.FirstDiff([]byte(want), []byte(got)))
		}
		older := string(testutil.BpftoolOutput(t, "feature", "list_builtins", g))
		if got := mustBpfkit(t, "feature", "list_builtins", g); !strings.HasPrefix(got, older) {
			t.Errorf("list_builtins %s does not begin with bpftool v7.1.0's list", g)
		}
		wantJSON := string(testutil.Bpftool78Output(t, "-p", "feature", "list_builtins", g))
		if got := mustBpfkit(t, "-p", "feature", "l", g[:3]); got != wantJSON {
			t.Errorf("-p list_builtins %s: %s", g, testutil.FirstDiff([]byte(wantJSON), []byte(got)))
		}
	}
}

// TestFeatureErrors: one line on stderr, a non-zero exit, nothing on
// stdout.
func TestFeatureErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"feature", "probe", "bogus"}, "got: 'bogus'"},
		{[]string{"feature", "probe", "prefix", "X"}, "only be used after 'macros'"},
		{[]string{"feature", "probe", "macros", "prefix", "1x"}, "not a C identifier"},
		{[]string{"feature", "probe", "kernel", "dev", "lo"}, "already specified"},
		{[]string{"feature", "probe", "dev"}, "needs a device name"},
		{[]string{"feature", "probe", "dev", "i12_nodev0"}, "unrecognized netdevice 'i12_nodev0'"},
		{[]string{"feature", "probe", "dev", "lo"}, "device 'lo' cannot offload BPF programs"},
		{[]string{"feature", "list_builtins", "things"}, "got: things"},
		{[]string{"feature", "list_builtins"}, "expected 'prog_types'"},
	} {
		r := bpfkit(t, tc.args...)
		if r.code == 0 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("bpfkit %s: exit %d, stdout %q, stderr %q; want one error line with %q",
				strings.Join(tc.args, " "), r.code, r.stdout, r.stderr, tc.want)
		}
	}
}
