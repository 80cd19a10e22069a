package objects

import (
	"sync"

	"golang.org/x/sys/unix"
)

// ProgramCache remembers what never changes in a loaded program and costs
// the most to read: its full name (which may need its BTF) and its memlock
// (which needs its fdinfo). A process that describes every program again
// and again, as `metrics serve` does at each scrape, reads them once per
// program. A program is known by its id and load time, so that an id used
// again is a new program. The zero value is ready; it is safe for
// concurrent use.
type ProgramCache struct {
	mu sync.Mutex
	m  map[programKey]programFixed
	// seen are the programs described since the last Prune.
	seen map[programKey]bool
}

type programKey struct {
	id       uint32
	loadTime uint64
}

// programFixed is what the cache holds of one program.
type programFixed struct {
	name       string
	memlock    int64
	hasMemlock bool
}

// get returns what c knows of a program; a nil c knows nothing.
func (c *ProgramCache) get(k programKey) (programFixed, bool) {
	if c == nil {
		return programFixed{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[k]
	if c.seen == nil {
		c.seen = map[programKey]bool{}
	}
	c.seen[k] = true
	return f, ok
}

func (c *ProgramCache) put(k programKey, f programFixed) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[programKey]programFixed{}
	}
	c.m[k] = f
}

// prune forgets the programs not described since the last prune: they
// were unloaded.
func (c *ProgramCache) prune() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if !c.seen[k] {
			delete(c.m, k)
		}
	}
	c.seen = nil
}

// DescribePrograms describes every loaded program, as Programs.Describe
// does (without the processes holding them), taking from cache what it
// read before and forgetting in it the programs gone since. The programs
// are described on every CPU at once, and come in increasing id order.
func DescribePrograms(cache *ProgramCache) ([]*ProgramInfo, error) {
	progs, err := describeWalk("program", unix.BPF_PROG_GET_NEXT_ID, unix.BPF_PROG_GET_FD_BY_ID, func(n int) func(int) (*ProgramInfo, error) {
		l := newProgLister(n)
		l.cache = cache
		return l.describe
	})
	if err != nil {
		return nil, err
	}
	cache.prune()
	return progs, nil
}
