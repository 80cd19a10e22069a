package btf

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/jsonw"
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
	if err := writeRawJSONTo(&b, s, ids, false); err != nil {
		t.Fatal(err)
	}
	if err := writeRawJSONTo(&c, s, ids, true); err != nil {
		t.Fatal(err)
	}
	return a.Bytes(), b.Bytes(), c.Bytes()
}

// writeRawJSONTo writes the JSON raw dump to w as `bpfkit -j`/`-p` print
// it: the document and a newline.
func writeRawJSONTo(w io.Writer, s *Spec, ids []TypeID, pretty bool) error {
	bw := bufio.NewWriter(w)
	if err := WriteRawJSON(jsonw.New(bw, pretty), s, ids); err != nil {
		return err
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// checkRawFile compares the plain, JSON and pretty JSON raw dumps of path,
// raw BTF or an object file, with bpftool's.
func checkRawFile(t *testing.T, path string) {
	t.Helper()
	var s *Spec
	if strings.HasSuffix(path, ".o") {
		var ok bool
		if s, ok = parseObject(t, path); !ok {
			t.Fatalf("%s has no .BTF", path)
		}
	} else {
		var err error
		if s, err = ParseFile(path, nil); err != nil {
			t.Fatal(err)
		}
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

// TestCiliumObjectsMatchBpftool compares the raw dump of every object in
// cilium/ebpf's testdata, in both byte orders, with bpftool's, and the C
// dump, sorted and unsorted, with bpftool 7.8's, and checks that a
// big-endian object dumps as its little-endian twin.
func TestCiliumObjectsMatchBpftool(t *testing.T) {
	for _, obj := range ciliumTestdata(t) {
		t.Run(filepath.Base(obj), func(t *testing.T) {
			s, ok := parseObject(t, obj)
			if !ok {
				t.Skip("no .BTF")
			}
			plain, _, _ := rawDumps(t, s, nil)
			compareLines(t, "plain", testutil.BpftoolOutput(t, "btf", "dump", "file", obj), plain)
			checkC78(t, s, "btf", "dump", "file", obj)
			if strings.HasSuffix(obj, "-eb.elf") {
				twin, _ := parseObject(t, strings.TrimSuffix(obj, "-eb.elf")+"-el.elf")
				le, _, _ := rawDumps(t, twin, nil)
				compareLines(t, "big vs little endian", le, plain)
			}
		})
	}
}

// TestRawSplitMatchesBpftool dumps split BTF on top of vmlinux, as a
// kernel module's is (this kernel has no modules), one type of every
// kind, and compares the three forms with bpftool -B vmlinux.
func TestRawSplitMatchesBpftool(t *testing.T) {
	base, err := ParseFile(vmlinuxPath, nil)
	if err != nil {
		t.Skip("no kernel BTF")
	}
	var intID uint32
	for id := base.FirstID(); id < base.End(); id++ {
		if ty := base.Type(id); ty.Kind == KindInt && ty.Name == "int" {
			intID = uint32(id)
			break
		}
	}
	if intID == 0 {
		t.Fatal("vmlinux has no int")
	}
	var names bytes.Buffer
	names.WriteByte(0)
	name := func(s string) uint32 {
		off := base.strBase + uint32(len(base.strs)) + uint32(names.Len())
		names.WriteString(s + "\x00")
		return off
	}
	n := uint32(base.End())
	types := []uint32{
		name("abtf_s"), info(KindStruct, 3, true), 16, // n
		name("a"), intID, 0, name("bf"), intID, 3<<24 | 32, name("p"), n + 1, 64,
		0, info(KindPtr, 0, false), n, // n+1
		name("abtf_e"), info(KindEnum, 2, true), 4, name("NEG"), 0xffffffff, name("ONE"), 1, // n+2
		name("abtf_e64"), info(KindEnum64, 1, false), 8, name("BIG"), 0, 1 << 31, // n+3
		0, info(KindFuncProto, 2, false), intID, name("x"), intID, 0, n + 1, // n+4
		name("abtf_f"), info(KindFunc, 1, false), n + 4, // n+5
		name("abtf_v"), info(KindVar, 0, false), intID, 1, // n+6
		name(".data"), info(KindDatasec, 1, false), 4, n + 6, 0, 4, // n+7
		name("abtf_u"), info(KindFwd, 0, true), 0, // n+8
		0, info(KindArray, 0, false), 0, intID, intID, 4, // n+9
		name("abtf_t"), info(KindTypedef, 0, false), n, // n+10
		0, info(KindConst, 0, false), n + 10, // n+11
		0, info(KindVolatile, 0, false), n + 11, // n+12
		0, info(KindRestrict, 0, false), n + 1, // n+13
		name("tag"), info(KindDeclTag, 0, false), n, 1, // n+14
		name("tt"), info(KindTypeTag, 0, false), n, // n+15
		name("abtf_float"), info(KindFloat, 0, false), 8, // n+16
		name("abtf_ue"), info(KindEnum, 1, false), 4, name("HIGH"), 0xeffffffc, // n+17
	}
	data := blob(types, names.String())
	s, err := Parse(data, base)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "split.btf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	plain, compact, pretty := rawDumps(t, s, nil)
	compareLines(t, "plain", testutil.BpftoolOutput(t, "-B", vmlinuxPath, "btf", "dump", "file", path), plain)
	compareLines(t, "json", fixBpftoolEnumJSON(testutil.BpftoolOutput(t, "-j", "-B", vmlinuxPath, "btf", "dump", "file", path)), compact)
	compareLines(t, "pretty", fixBpftoolEnumJSON(testutil.BpftoolOutput(t, "-p", "-B", vmlinuxPath, "btf", "dump", "file", path)), pretty)
}
