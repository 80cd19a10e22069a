package btf

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
)

const vmlinuxPath = "/sys/kernel/btf/vmlinux"

// compareLines fails the test where got first differs from want (bpfkit's
// output and bpftool's).
func compareLines(t *testing.T, what string, want, got []byte) {
	t.Helper()
	if d := testutil.FirstDiff(got, want); d != "" {
		t.Fatalf("%s differs at %s", what, d)
	}
}

var (
	unsignedEnumJSON = regexp.MustCompile(`"kind":\s*"ENUM",\s*"name":\s*"[^"]*",\s*"encoding":\s*"UNSIGNED",[^\]]*\]`)
	enumValJSON      = regexp.MustCompile(`"val":\s*(\d+)`)
)

// fixBpftoolEnumJSON undoes a bpftool bug: its JSON sign-extends the
// values of unsigned 32-bit enums (it passes the __s32 val to
// jsonw_uint_field), so 0xeffffffc prints as 18446744073441116156 while
// its plain output says 4026531836. bpfkit prints the true value.
func fixBpftoolEnumJSON(b []byte) []byte {
	return unsignedEnumJSON.ReplaceAllFunc(b, func(enum []byte) []byte {
		return enumValJSON.ReplaceAllFunc(enum, func(val []byte) []byte {
			m := enumValJSON.FindSubmatchIndex(val)
			v, err := strconv.ParseUint(string(val[m[2]:m[3]]), 10, 64)
			if err != nil || v <= math.MaxUint32 {
				return val
			}
			fixed := strconv.AppendUint(nil, v&math.MaxUint32, 10)
			return append(append([]byte(nil), val[:m[2]]...), fixed...)
		})
	})
}

// rawDumps returns bpfkit's raw dumps of the types ids of s (all of the
// blob's own types when ids is empty): plain, JSON and pretty JSON.
func rawDumps(t *testing.T, s *Spec, ids []TypeID) (plain, compact, pretty []byte) {
	t.Helper()
	var a, b, c bytes.Buffer
	if err := WriteRaw(&a, s, ids); err != nil {
		t.Fatal(err)
	}
	if err := WriteRawJSON(&b, s, ids, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteRawJSON(&c, s, ids, true); err != nil {
		t.Fatal(err)
	}
	return a.Bytes(), b.Bytes(), c.Bytes()
}

// checkRawFile compares the plain, JSON and pretty JSON raw dumps of path
// with bpftool's.
func checkRawFile(t *testing.T, path string) {
	t.Helper()
	s, err := ParseFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, compact, pretty := rawDumps(t, s, nil)
	compareLines(t, "plain", testutil.BpftoolOutput(t, "btf", "dump", "file", path), plain)
	compareLines(t, "json", fixBpftoolEnumJSON(testutil.BpftoolOutput(t, "-j", "btf", "dump", "file", path)), compact)
	compareLines(t, "pretty", fixBpftoolEnumJSON(testutil.BpftoolOutput(t, "-p", "btf", "dump", "file", path)), pretty)
}

func TestRawVmlinuxMatchesBpftool(t *testing.T) {
	if _, err := os.Stat(vmlinuxPath); err != nil {
		t.Skip("no kernel BTF")
	}
	checkRawFile(t, vmlinuxPath)
}

func TestRawELFObjectsMatchBpftool(t *testing.T) {
	for _, obj := range testutil.Objects(t, "*") {
		t.Run(filepath.Base(obj), func(t *testing.T) {
			checkRawFile(t, obj)
		})
	}
}

// ciliumTestdata returns cilium/ebpf's testdata objects, little- and
// big-endian builds of the same sources.
func ciliumTestdata(t *testing.T) []string {
	t.Helper()
	objs, _ := filepath.Glob(filepath.Join(testutil.CiliumModuleDir(t), "testdata", "*-e[lb].elf"))
	if len(objs) == 0 {
		t.Skip("no cilium/ebpf testdata objects")
	}
	return objs
}

// TestCiliumObjectsMatchBpftool compares the raw and C dumps of every
// object in cilium/ebpf's testdata, in both byte orders, with bpftool's,
// and checks that a big-endian object dumps as its little-endian twin.
func TestCiliumObjectsMatchBpftool(t *testing.T) {
	for _, obj := range ciliumTestdata(t) {
		t.Run(filepath.Base(obj), func(t *testing.T) {
			s, err := ParseFile(obj, nil)
			if errors.Is(err, errNoBTFSection) {
				t.Skip("no .BTF")
			}
			if err != nil {
				t.Fatal(err)
			}
			plain, _, _ := rawDumps(t, s, nil)
			compareLines(t, "plain", testutil.BpftoolOutput(t, "btf", "dump", "file", obj), plain)
			var c bytes.Buffer
			if err := WriteC(&c, s, nil); err != nil {
				t.Fatal(err)
			}
			compareLines(t, "format c", testutil.BpftoolOutput(t, "btf", "dump", "file", obj, "format", "c"), c.Bytes())
			if strings.HasSuffix(obj, "-eb.elf") {
				twin, err := ParseFile(strings.TrimSuffix(obj, "-eb.elf")+"-el.elf", nil)
				if err != nil {
					t.Fatal(err)
				}
				le, _, _ := rawDumps(t, twin, nil)
				compareLines(t, "big vs little endian", le, plain)
			}
		})
	}
}
