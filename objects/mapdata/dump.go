package mapdata

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Entry is one element of a map dump. Its slices point into the
// dumper's buffers and are valid only during the callback.
type Entry struct {
	Key []byte
	// Value is the value of a map that is not per-CPU.
	Value []byte
	// PerCPU holds one value per possible CPU for per-CPU maps.
	PerCPU [][]byte
	// Errno is non-zero when the lookup of Key failed (the dump goes on,
	// as bpftool's does); Value and PerCPU are then unset.
	Errno unix.Errno
}

// Clone returns a copy of e that Dump does not reuse.
func (e *Entry) Clone() *Entry {
	c := &Entry{Key: slices.Clone(e.Key), Value: slices.Clone(e.Value), Errno: e.Errno}
	for _, v := range e.PerCPU {
		c.PerCPU = append(c.PerCPU, slices.Clone(v))
	}
	return c
}

// DumpOptions tunes Dump.
type DumpOptions struct {
	// BatchSize is the number of elements per BPF_MAP_LOOKUP_BATCH call;
	// 0 means DefaultBatch.
	BatchSize int
	// NoBatch forces the get_next_key + lookup iteration bpftool uses.
	NoBatch bool
}

// DefaultBatch is the batch size of a dump: large enough to amortise
// the syscall, small enough to keep memory flat (4096 * (key+value)).
const DefaultBatch = 4096

// maxBatchBytes bounds the buffers of one batch (keys and values) for maps
// with large or per-CPU values.
const maxBatchBytes = 4 << 20

// ErrNotDumpable is returned for map types that have no key iteration.
var ErrNotDumpable = errors.New("map cannot be dumped")

// IsPerCPU reports whether values of maps of type t are per-CPU arrays.
func IsPerCPU(t ebpf.MapType) bool {
	switch t {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		return true
	}
	return false
}

// IsMapOfMaps reports whether t holds inner maps.
func IsMapOfMaps(t ebpf.MapType) bool {
	return t == ebpf.ArrayOfMaps || t == ebpf.HashOfMaps
}

// dumpRefusal says why a map type cannot be dumped, or "".
func dumpRefusal(t ebpf.MapType) string {
	switch t {
	case ebpf.RingBuf:
		return "they hold records, not elements; use map event_pipe"
	case ebpf.UserRingbuf:
		return "user space writes them and cannot read them back"
	case ebpf.PerfEventArray:
		return "they hold perf events, not values; use map event_pipe"
	case ebpf.Queue, ebpf.Stack:
		return "they have no keys; use map peek or map pop"
	case ebpf.BloomFilter:
		return "their elements cannot be listed"
	case ebpf.StructOpsMap:
		return "use struct_ops dump"
	case ebpf.Arena:
		return "they hold memory pages, not elements"
	case ebpf.SkStorage, ebpf.InodeStorage, ebpf.TaskStorage, ebpf.CgroupStorage:
		return "local storage is keyed by kernel objects and cannot be listed"
	}
	return ""
}

// notDumpable says which map type cannot be dumped and why.
type notDumpable struct{ typ, why string }

func (e *notDumpable) Error() string        { return e.typ + " maps cannot be dumped: " + e.why }
func (e *notDumpable) Is(target error) bool { return target == ErrNotDumpable }

// CheckDumpable returns an error matching ErrNotDumpable when maps of type
// t cannot be dumped, with a hint at what to use instead.
func CheckDumpable(t ebpf.MapType) error {
	if why := dumpRefusal(t); why != "" {
		return &notDumpable{objects.MapTypeName(t).String(), why}
	}
	return nil
}

// errnoOf extracts the errno from an error returned by cilium/ebpf.
func errnoOf(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return unix.ENOENT
	}
	if errors.Is(err, ebpf.ErrNotSupported) {
		return 524 // ENOTSUPP
	}
	return unix.EINVAL
}

// roundUp8 is the per-CPU value stride.
func roundUp8(n uint32) int { return int((n + 7) &^ 7) }

// byteArrays makes a []([size]byte) of n elements and returns it both as
// the value cilium/ebpf's batch API wants and as one flat byte slice.
func byteArrays(size, n int) (any, []byte) {
	if size == 0 || n == 0 {
		return []byte{}, nil
	}
	t := reflect.ArrayOf(size, reflect.TypeOf(byte(0)))
	s := reflect.MakeSlice(reflect.SliceOf(t), n, n)
	flat := unsafe.Slice((*byte)(s.UnsafePointer()), size*n)
	return s.Interface(), flat
}

// Dump streams every element of m to fn, holding at most one batch in
// memory. It uses BPF_MAP_LOOKUP_BATCH where the kernel has it (hash and
// array families, per-CPU variants, LPM trie) and falls back to
// get_next_key + lookup elsewhere. Batched dumps of hash maps walk buckets,
// so a map that changes during the dump yields no duplicates and cannot
// loop; the fallback stops with an error after twice max_entries steps.
//
// Lookups that fail for one key are reported in Entry.Errno, except
// ENOENT on prog arrays and maps of maps (empty slots), which are skipped.
// An error returned by fn stops the dump and is returned as is.
func Dump(m *ebpf.Map, opts *DumpOptions, fn func(*Entry) error) error {
	if err := CheckDumpable(m.Type()); err != nil {
		return err
	}
	if opts == nil {
		opts = &DumpOptions{}
	}
	d, err := newDumper(m, opts)
	if err != nil {
		return err
	}
	if !opts.NoBatch && m.KeySize() > 0 {
		done, err := d.batch(fn)
		if done || err != nil {
			return err
		}
	}
	return d.iterate(fn)
}

type mapDumper struct {
	m      *ebpf.Map
	ks, vs int
	ncpu   int
	percpu bool
	batch0 int
	entry  Entry
}

func newDumper(m *ebpf.Map, opts *DumpOptions) (*mapDumper, error) {
	d := &mapDumper{
		m:      m,
		ks:     int(m.KeySize()),
		vs:     int(m.ValueSize()),
		ncpu:   1,
		percpu: IsPerCPU(m.Type()),
		batch0: opts.BatchSize,
	}
	if d.percpu {
		n, err := ebpf.PossibleCPU()
		if err != nil {
			return nil, fmt.Errorf("possible CPUs: %w", err)
		}
		d.ncpu = n
		d.entry.PerCPU = make([][]byte, n)
	}
	if d.batch0 <= 0 {
		// Keep one batch under maxBatchBytes whatever the value size.
		per := d.ks + roundUp8(uint32(d.vs))*d.ncpu
		d.batch0 = max(1, min(DefaultBatch, maxBatchBytes/max(per, 1)))
	}
	return d, nil
}

// SkipMissing reports whether a failed lookup is an empty slot to skip.
func SkipMissing(t ebpf.MapType, errno unix.Errno) bool {
	return errno == unix.ENOENT && (t == ebpf.ProgramArray || IsMapOfMaps(t))
}

// batch runs the batched dump. done is false when the kernel has no batch
// operation for this map and nothing was emitted yet.
func (d *mapDumper) batch(fn func(*Entry) error) (done bool, err error) {
	n := d.batch0
	var cursor ebpf.MapBatchCursor
	keysAny, keys := byteArrays(d.ks, n)
	valsAny, vals := byteArrays(d.vs, n*d.ncpu)
	emitted := false
	retries := 0
	for {
		cnt, err := d.m.BatchLookup(&cursor, keysAny, valsAny, nil)
		end := errors.Is(err, ebpf.ErrKeyNotExist)
		if err != nil && !end {
			if !emitted && (errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)) {
				return false, nil
			}
			if errors.Is(err, unix.ENOSPC) && retries < 8 && n < 1<<20 {
				// A hash bucket holds more elements than the batch: grow
				// the batch and retry from the same cursor.
				retries++
				n *= 4
				keysAny, keys = byteArrays(d.ks, n)
				valsAny, vals = byteArrays(d.vs, n*d.ncpu)
				continue
			}
			return true, fmt.Errorf("batch lookup: %w", err)
		}
		for i := 0; i < cnt; i++ {
			e := &d.entry
			e.Key = keys[i*d.ks : (i+1)*d.ks]
			if d.percpu {
				base := i * d.ncpu * d.vs
				for c := 0; c < d.ncpu; c++ {
					e.PerCPU[c] = vals[base+c*d.vs : base+(c+1)*d.vs]
				}
			} else {
				e.Value = vals[i*d.vs : (i+1)*d.vs]
			}
			if err := fn(e); err != nil {
				return true, err
			}
		}
		if cnt > 0 {
			emitted = true
		}
		if end {
			return true, nil
		}
	}
}

// iterate is bpftool's algorithm: get_next_key, then lookup, per element.
func (d *mapDumper) iterate(fn func(*Entry) error) error {
	typ := d.m.Type()
	key := make([]byte, d.ks)
	next := make([]byte, d.ks)
	var valAny any
	var val []byte
	if d.percpu {
		valAny, val = byteArrays(d.vs, d.ncpu)
	} else {
		val = make([]byte, d.vs)
		valAny = val
	}
	limit := 2*int(d.m.MaxEntries()) + 64
	var prev any
	for steps := 0; ; steps++ {
		if steps > limit {
			return fmt.Errorf("map changed too much during the dump: stopped after %d keys", steps)
		}
		err := d.m.NextKey(prev, next)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return nil
		}
		if err != nil {
			if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EOPNOTSUPP) {
				return &notDumpable{objects.MapTypeName(typ).String(), "the kernel does not iterate their keys"}
			}
			return fmt.Errorf("get next key: %w", err)
		}
		key, next = next, key
		prev = key
		e := &d.entry
		e.Key, e.Errno, e.Value = key, 0, nil
		if err := d.m.Lookup(key, valAny); err != nil {
			e.Errno = errnoOf(err)
			if SkipMissing(typ, e.Errno) {
				continue
			}
		} else if d.percpu {
			for c := 0; c < d.ncpu; c++ {
				e.PerCPU[c] = val[c*d.vs : (c+1)*d.vs]
			}
		} else {
			e.Value = val
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// CheckQueueVerb returns an error when maps of type t have no verb (one
// of peek, pop, dequeue, push, enqueue: the verbs of queues and stacks,
// which take no key). With key, peek is a lookup and any map that has
// lookup has it. The kernel's own answer is ENOTSUPP ("Unknown error
// 524") or an error about the missing key.
func CheckQueueVerb(t ebpf.MapType, verb string, key bool) error {
	switch t {
	case ebpf.Queue, ebpf.Stack:
		return nil
	case ebpf.BloomFilter:
		if verb == "peek" || verb == "push" {
			return nil
		}
	}
	if verb == "peek" && key && t != ebpf.RingBuf && t != ebpf.UserRingbuf && t != ebpf.PerfEventArray {
		return nil
	}
	hint := "only queue and stack maps have it"
	if verb == "peek" || verb == "push" {
		hint = "only queue, stack and bloom filter maps have it"
	}
	switch {
	case t == ebpf.RingBuf || t == ebpf.PerfEventArray:
		hint += "; use map event_pipe"
	case verb == "peek":
		hint += "; use map lookup MAP key KEY"
	case verb == "push" || verb == "enqueue":
		hint += "; use map update MAP key KEY value VALUE"
	default:
		hint += "; use map lookup and map delete"
	}
	return fmt.Errorf("%s maps have no %s: %s", objects.MapTypeName(t), verb, hint)
}
