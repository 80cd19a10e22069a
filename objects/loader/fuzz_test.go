package loader

import (
	"os"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects/elfobj"
)

// FuzzSetVariable feeds user text to --set for every global of the test
// object: it may be refused, never panic, and an accepted value always
// fills the variable exactly.
func FuzzSetVariable(f *testing.F) {
	for _, s := range []string{"targ_pid=1", "targ_pid=0x10", "targ_pid=-1", "tag=abc", "tag=", "unused_event=0", "x", "=", "targ_pid=99999999999999999999"} {
		f.Add(s)
	}
	obj, err := Open(testutil.Object(f, "loader/tracepoint"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kv string) {
		o := obj.copy()
		name, value, _ := strings.Cut(kv, "=")
		if err := SetVariable(o.Spec, name, value); err != nil {
			return
		}
		vs := o.Spec.Variables[name]
		if uint32(len(vs.Value)) != vs.Size() {
			t.Fatalf("%s: %d bytes for a %d-byte variable", kv, len(vs.Value), vs.Size())
		}
	})
}

// fuzzSections are the sections FuzzLoadSpec damages.
var fuzzSections = []string{".BTF", ".BTF.ext", ".maps"}

// FuzzLoadSpec damages the .BTF, .BTF.ext or .maps section of a committed
// object (patch written at an offset in the section) and runs the load
// path up to the kernel: elfobj's reading (bpfkit's BTF parser, then
// cilium/ebpf's), the loader's reading, the global variables, and the BTF
// encoding of every map and program (checkBTF). Damaged BTF once panicked
// cilium/ebpf here (issue 17); now it may be refused, in one line, never
// panic.
func FuzzLoadSpec(f *testing.F) {
	paths := append(testutil.Objects(f, "*"), testutil.Objects(f, "loader/*")...)
	var objs [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		objs = append(objs, data)
	}
	for i := range objs {
		for s := range fuzzSections {
			f.Add(uint8(i), uint8(s), uint32(40), []byte{0xff, 0x7f})
			f.Add(uint8(i), uint8(s), uint32(7), []byte{0})
		}
	}
	f.Fuzz(func(t *testing.T, which, sec uint8, at uint32, patch []byte) {
		data := append([]byte(nil), objs[int(which)%len(objs)]...)
		clean, err := elfobj.Read(append([]byte(nil), data...))
		if err != nil {
			t.Fatal(err)
		}
		name := fuzzSections[int(sec)%len(fuzzSections)]
		var s *elfobj.Section
		for i := range clean.Sections {
			if clean.Sections[i].Name == name {
				s = &clean.Sections[i]
			}
		}
		if s == nil || s.Size == 0 {
			return
		}
		off := s.Offset + uint64(at)%s.Size
		copy(data[off:min(off+uint64(len(patch)), s.Offset+s.Size)], patch)
		if err := loadUpToKernel(data); err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error of more than one line: %q", err)
		}
	})
}

// loadUpToKernel runs what Load does with an object file's bytes before
// the first bpf(2) call.
func loadUpToKernel(data []byte) error {
	f, err := elfobj.Read(data)
	if err != nil {
		return err
	}
	obj, err := FromELF("fuzz.bpf.o", f)
	if err != nil {
		return err
	}
	flat, err := withoutVariables(obj.Spec)
	if err != nil {
		return err
	}
	return checkBTF(flat)
}
