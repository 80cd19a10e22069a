package loader

import (
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
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
