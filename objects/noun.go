package objects

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/cilium/ebpf/pin"
	"golang.org/x/sys/unix"
)

// Noun is a kind of kernel object that bpfkit selects, lists and pins the
// way bpftool's OBJECT words do: Programs, Maps and Links. T is
// cilium/ebpf's handle for such an object and I the description bpfkit
// gives of it. Every verb below is written once for the three nouns; a
// Noun value is the table of what differs between them.
type Noun[T pin.Pinner, I any] struct {
	// name is the noun in messages: "program", "map", "link".
	name string
	// kind is the noun's kind of object, for the scan of their owners.
	kind ObjectKind
	// pinKind is bpftool's word for the object behind a pin: "prog",
	// "map", "link".
	pinKind string
	// kinds are the selectors the noun takes, in bpftool's order.
	kinds []SelectorKind
	// nextID is the bpf(2) command that walks the noun's ids.
	nextID uintptr
	// fromID opens the object with an id; os.ErrNotExist when it is gone.
	fromID func(uint32) (T, error)
	// id returns an open object's id.
	id func(T) (uint32, error)
	// fd returns an open object's file descriptor.
	fd func(T) int
	// getFD is the bpf(2) command that opens an object by id.
	getFD uintptr
	// describer returns the function that describes the object behind a
	// file descriptor, for a listing of about n objects: the descriptions
	// of one listing share allocations, buffers and caches. Listings open
	// objects by id with plain system calls and never make cilium/ebpf
	// handles, which keeps listing thousands of objects fast.
	describer func(n int) func(fd int) (*I, error)
	// matches reports whether an object fits a tag or name selector.
	matches func(T, Selector) bool
	// addOwners sets the processes holding the object described.
	addOwners func(*I, *Owners)
}

// String returns the noun as messages spell it.
func (n *Noun[T, I]) String() string { return n.name }

// ParseSelector parses the noun's selector (`id ID`, `pinned PATH`, and
// `tag TAG` or `name NAME` where the noun has them) from the front of
// words and returns the words after it.
func (n *Noun[T, I]) ParseSelector(words []string) (Selector, []string, error) {
	return parseSelector(n.name, words, n.kinds)
}

// ID returns the id of an open object.
func (n *Noun[T, I]) ID(obj T) (uint32, error) { return n.id(obj) }

// Open opens the objects sel selects; the caller closes them. Listing
// everything skips objects that vanish meanwhile. A tag or name that
// matches nothing is an error, unlike in bpftool.
func (n *Noun[T, I]) Open(sel Selector) ([]T, error) {
	switch sel.Kind {
	case SelectAll:
		return n.openAll(nil)
	case SelectID:
		obj, err := n.fromID(sel.ID)
		if errors.Is(err, os.ErrNotExist) {
			return nil, &NoSuchID{Noun: n.name, ID: sel.ID}
		}
		if err != nil {
			return nil, fmt.Errorf("open %s %d: %w", n.name, sel.ID, PermissionHint(err))
		}
		return []T{obj}, nil
	case SelectPinned:
		obj, err := openPinned[T](sel.Value, n.pinKind)
		if err != nil {
			return nil, err
		}
		return []T{obj}, nil
	}
	if !n.takes(sel.Kind) || n.matches == nil {
		return nil, fmt.Errorf("%w: %ss have no %s", ErrBadSelector, n.pinKind, sel.Kind)
	}
	match, err := n.openAll(func(obj T) bool { return n.matches(obj, sel) })
	if err != nil {
		return nil, err
	}
	if len(match) == 0 {
		return nil, fmt.Errorf("no %s with %s %s", n.name, sel.Kind, sel.Value)
	}
	return match, nil
}

// NoSuchID is the error of an id selector that names no object. It is
// ENOENT, the kernel's answer to a GET_FD_BY_ID of a missing id.
type NoSuchID struct {
	Noun string
	ID   uint32
}

func (e *NoSuchID) Error() string { return fmt.Sprintf("no %s with id %d", e.Noun, e.ID) }

// Unwrap returns ENOENT.
func (e *NoSuchID) Unwrap() error { return unix.ENOENT }

// OpenOne opens the one object sel selects.
func (n *Noun[T, I]) OpenOne(sel Selector) (T, error) {
	objs, err := n.Open(sel)
	if err != nil {
		var zero T
		return zero, err
	}
	if len(objs) > 1 {
		closeAll(objs)
		var zero T
		return zero, fmt.Errorf("several %ss match this handle (%s)", n.name, sel)
	}
	return objs[0], nil
}

// DescribeOne describes the one object sel selects.
func (n *Noun[T, I]) DescribeOne(sel Selector) (*I, error) {
	obj, err := n.OpenOne(sel)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return n.describer(1)(n.fd(obj))
}

// List describes the objects sel selects, with the processes that hold
// each (one scan of /proc, while the kernel is asked). When listing
// everything, objects that vanish meanwhile are skipped.
func (n *Noun[T, I]) List(sel Selector) ([]*I, error) {
	scan := make(chan *Owners, 1)
	go func() {
		o, _ := ScanOwners(n.kind)
		scan <- o
	}()
	infos, err := n.list(sel)
	if owners := <-scan; owners != nil {
		for _, info := range infos {
			n.addOwners(info, owners)
		}
	}
	return infos, err
}

// Describe describes the objects sel selects, as List does, without the
// processes that hold them: for callers that never show those, it saves a
// scan of /proc.
func (n *Noun[T, I]) Describe(sel Selector) ([]*I, error) { return n.list(sel) }

// Count returns how many objects of the noun the kernel has, without
// opening them.
func (n *Noun[T, I]) Count() (int, error) {
	count := 0
	err := eachID(n.nextID, n.name, func(uint32) error {
		count++
		return nil
	})
	return count, err
}

func (n *Noun[T, I]) list(sel Selector) ([]*I, error) {
	if sel.All() {
		return n.listAll()
	}
	objs, err := n.Open(sel)
	if err != nil {
		return nil, err
	}
	defer closeAll(objs)
	describe := n.describer(len(objs))
	infos := make([]*I, 0, len(objs))
	for _, obj := range objs {
		info, err := describe(n.fd(obj))
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// listAll describes every object of the noun; objects that vanish
// meanwhile are skipped.
func (n *Noun[T, I]) listAll() ([]*I, error) {
	var ids []uint32
	if err := eachID(n.nextID, n.name, func(id uint32) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, err
	}
	return describeIDs(n.name, n.getFD, ids, n.describer)
}

// parallelMin is the fewest objects a listing describes on more than one
// CPU: below it, starting goroutines costs more than it saves.
const parallelMin = 64

// describeIDs opens the objects with ids by getFD and describes them with
// describers made by describer, on every CPU at once: the kernel answers
// GET_FD_BY_ID and GET_INFO_BY_FD for different objects in parallel, and
// these calls are most of a listing's time. The descriptions come in the
// order of ids; objects that vanish meanwhile (or cannot be read) are
// skipped. An id that cannot be opened for another reason, such as a
// missing privilege, ends the listing with an error naming it.
func describeIDs[I any](noun string, getFD uintptr, ids []uint32, describer func(n int) func(fd int) (*I, error)) ([]*I, error) {
	infos := make([]*I, len(ids))
	errs := make([]error, len(ids))
	workers := 1
	if len(ids) >= parallelMin {
		workers = min(runtime.GOMAXPROCS(0), len(ids)/(parallelMin/2))
	}
	describeChunk := func(lo, hi int) {
		describe := describer(hi - lo)
		for i := lo; i < hi; i++ {
			fd, err := getFDByID(getFD, ids[i])
			if err != nil {
				errs[i] = err
				continue
			}
			infos[i], _ = describe(fd) // nil: it went away while we looked
			closeFD(fd)
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(ids)/workers, (w+1)*len(ids)/workers
		if w == workers-1 {
			describeChunk(lo, hi)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			describeChunk(lo, hi)
		}()
	}
	wg.Wait()
	out := infos[:0]
	for i, info := range infos {
		switch err := errs[i]; {
		case errors.Is(err, unix.ENOENT):
			// It went away.
		case err != nil:
			return out, fmt.Errorf("open %s %d: %w", noun, ids[i], PermissionHint(err))
		case info != nil:
			out = append(out, info)
		}
	}
	return out, nil
}

// Pin pins the object sel selects at path, which must be a free name on a
// bpffs (see CheckPinPath).
func (n *Noun[T, I]) Pin(sel Selector, path string) error {
	if err := CheckPinPath(path); err != nil {
		return err
	}
	obj, err := n.OpenOne(sel)
	if err != nil {
		return err
	}
	defer obj.Close()
	return obj.Pin(path)
}

// PinnedPaths walks every mounted bpffs and returns the pinned paths of
// the noun's objects by id.
func (n *Noun[T, I]) PinnedPaths() (map[uint32][]string, error) {
	return pinnedPaths(n.id)
}

func (n *Noun[T, I]) takes(k SelectorKind) bool {
	for _, t := range n.kinds {
		if t == k {
			return true
		}
	}
	return false
}

// openAll opens every object of the noun for which keep (nil: every
// object) says yes, closing the others at once: a selector that walks
// 20,000 programs holds only the descriptors of those it matches.
// Objects that go away meanwhile are skipped.
func (n *Noun[T, I]) openAll(keep func(T) bool) ([]T, error) {
	var objs []T
	err := eachID(n.nextID, n.name, func(id uint32) error {
		obj, err := n.fromID(id)
		if errors.Is(err, os.ErrNotExist) {
			return nil // it went away
		}
		if err != nil {
			return fmt.Errorf("open %s %d: %w", n.name, id, PermissionHint(err))
		}
		if keep != nil && !keep(obj) {
			obj.Close()
			return nil
		}
		objs = append(objs, obj)
		return nil
	})
	if err != nil {
		closeAll(objs)
		return nil, err
	}
	return objs, nil
}

// eachID calls fn with every id that the GET_NEXT_ID command cmd walks,
// in increasing order, until fn fails. It is the one loop over kernel
// object ids; noun names the objects in its error.
func eachID(cmd uintptr, noun string, fn func(uint32) error) error {
	for id := uint32(0); ; {
		next, err := nextID(cmd, id)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get next %s id: %w", noun, PermissionHint(err))
		}
		if err := fn(next); err != nil {
			return err
		}
		id = next
	}
}

func closeAll[T interface{ Close() error }](objs []T) {
	for _, o := range objs {
		o.Close()
	}
}
