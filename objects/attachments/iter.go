package attachments

import (
	"context"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/loader"
)

// IterPin loads the object file at path, attaches its first program as an
// iterator (over the elements of m when m is set: bpf_map_elem and
// bpf_sk_storage_map targets) and pins the link at pin, as bpftool's `iter
// pin` does; reading the pin runs the iterator. The program and maps stay
// in the kernel only through the pinned link: on any failure nothing
// stays, and neither does anything when ctx is done before IterPin returns
// (ctx's cause is returned; the verifier is never cut short).
func IterPin(ctx context.Context, path, pin string, m *ebpf.Map) (err error) {
	if err := objects.CheckPinPath(pin); err != nil {
		return err
	}
	obj, err := loader.Open(path)
	if err != nil {
		return err
	}
	name := obj.Programs[0]
	if ps := obj.Spec.Programs[name]; ps.Type != ebpf.Tracing || ps.AttachType != ebpf.AttachTraceIter {
		return fmt.Errorf("program %s is not an iterator (its section is %s, not iter/...)", name, ps.SectionName)
	}
	loaded, err := loader.LoadContext(ctx, obj, loader.LoadOptions{})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			loaded.Unload() // and the maps it pinned by name
		} else {
			loaded.Close()
		}
	}()
	prog := loaded.Collection.Programs[name]
	it, err := link.AttachIter(link.IterOptions{Program: prog, Map: m})
	if err != nil {
		return fmt.Errorf("attach_iter failed for program %s: %w", name, objects.PermissionHint(errnoOf(err)))
	}
	defer it.Close()
	if err := loader.Stopped(ctx); err != nil {
		return err
	}
	if err := it.Pin(pin); err != nil {
		return fmt.Errorf("pin_iter failed for program %s to path %s: %w", name, pin, err)
	}
	if err := loader.Stopped(ctx); err != nil {
		os.Remove(pin)
		return err
	}
	return nil
}
