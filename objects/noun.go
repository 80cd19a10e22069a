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
	return describeWalk(n.name, n.nextID, n.getFD, n.describer)
}

// chunkIDs is how many objects a listing walks before it hands them to
// be described: a listing of fewer is described on one CPU.
const chunkIDs = 64

// describeWalk describes every object the GET_NEXT_ID command nextCmd
// walks, opening each by getFD and describing it with a describer made by
// describer. The walk, which the kernel answers one id at a time, runs
// beside the descriptions, which run on every CPU at once: the kernel
// answers GET_FD_BY_ID and GET_INFO_BY_FD for different objects in
// parallel, and these calls are most of a listing's time. The
// descriptions come in increasing id order; objects that vanish meanwhile
// (or cannot be read) are skipped. An object that cannot be opened for
// another reason, such as a missing privilege, ends the listing with an
// error naming it.
func describeWalk[I any](noun string, nextCmd, getFD uintptr, describer func(n int) func(fd int) (*I, error)) ([]*I, error) {
	ids, err := walkIDs(nextCmd, noun, 0, chunkIDs)
	if err != nil {
		return nil, err
	}
	if len(ids) < chunkIDs {
		return describeChunk(noun, getFD, ids, describer(len(ids)))
	}
	type chunk struct {
		index int
		ids   []uint32
	}
	type described struct {
		infos []*I
		err   error
	}
	workers := runtime.GOMAXPROCS(0)
	chunks := make(chan chunk, 2*workers)
	var walkErr error
	go func() {
		defer close(chunks)
		for index := 0; len(ids) > 0; index++ {
			chunks <- chunk{index, ids}
			if len(ids) < chunkIDs {
				return
			}
			if ids, walkErr = walkIDs(nextCmd, noun, ids[len(ids)-1], chunkIDs); walkErr != nil {
				return
			}
		}
	}()
	var (
		mu      sync.Mutex
		results []described
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			describe := describer(4 * chunkIDs)
			for c := range chunks {
				infos, err := describeChunk(noun, getFD, c.ids, describe)
				mu.Lock()
				for len(results) <= c.index {
					results = append(results, described{})
				}
				results[c.index] = described{infos, err}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var out []*I
	for _, r := range results {
		out = append(out, r.infos...)
		if r.err != nil {
			return out, r.err
		}
	}
	return out, walkErr
}

// walkIDs returns the next n ids after the id after (fewer at the end)
// that the GET_NEXT_ID command cmd walks, in increasing order. It is the
// one loop over kernel object ids; noun names the objects in its error.
func walkIDs(cmd uintptr, noun string, after uint32, n int) ([]uint32, error) {
	ids := make([]uint32, 0, n)
	for len(ids) < n {
		next, err := nextID(cmd, after)
		if errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("get next %s id: %w", noun, PermissionHint(err))
		}
		ids = append(ids, next)
		after = next
	}
	return ids, nil
}

// describeChunk opens the objects with ids by getFD and describes them
// with describe, in the order of ids. Objects that vanish meanwhile (or
// cannot be read) are skipped; an id that cannot be opened for another
// reason ends the chunk with an error naming it, after the descriptions
// of the ids before it.
func describeChunk[I any](noun string, getFD uintptr, ids []uint32, describe func(fd int) (*I, error)) ([]*I, error) {
	infos := make([]*I, 0, len(ids))
	for _, id := range ids {
		fd, err := getFDByID(getFD, id)
		if errors.Is(err, unix.ENOENT) {
			continue // it went away
		}
		if err != nil {
			return infos, fmt.Errorf("open %s %d: %w", noun, id, PermissionHint(err))
		}
		info, err := describe(fd)
		unix.Close(fd)
		if err == nil { // else it went away while we looked
			infos = append(infos, info)
		}
	}
	return infos, nil
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
// in increasing order, until fn fails; noun names the objects in its
// error. It walks a chunk of ids ahead of fn (walkIDs).
func eachID(cmd uintptr, noun string, fn func(uint32) error) error {
	for after := uint32(0); ; {
		ids, err := walkIDs(cmd, noun, after, chunkIDs)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := fn(id); err != nil {
				return err
			}
		}
		if len(ids) < chunkIDs {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

func closeAll[T interface{ Close() error }](objs []T) {
	for _, o := range objs {
		o.Close()
	}
}
