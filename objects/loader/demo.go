package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	bpfasm "github.com/bpfkit/bpfkit/asm"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/events"
)

// Demo is the teaching demo running in the kernel: the program from
// asm.DemoSpec, attached to the syscalls/sys_enter_openat tracepoint, with a
// reader on its perf event array.
type Demo struct {
	ProgID uint32
	MapID  uint32

	coll      *ebpf.Collection
	link      link.Link
	reader    *events.Reader
	closeOnce sync.Once
	closeErr  error
}

// DemoRecord is one perf record from the demo.
type DemoRecord struct {
	CPU   int
	Raw   []byte
	Value uint32 // the first four bytes, little-endian: 123
	Lost  uint64 // samples lost before this record
}

// DemoTracepoint is the tracepoint the demo attaches to.
const DemoTracepoint = "syscalls/sys_enter_openat"

// StartDemo loads and attaches the demo. On error nothing stays loaded.
func StartDemo() (_ *Demo, err error) {
	d := &Demo{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	d.coll, err = ebpf.NewCollection(bpfasm.DemoSpec())
	if err != nil {
		return nil, fmt.Errorf("load demo: %w", objects.PermissionHint(objects.PrivilegeHint(err, "loading the demo")))
	}
	prog := d.coll.Programs[bpfasm.DemoProgName]
	perfMap := d.coll.Maps[bpfasm.DemoMapName]
	if d.ProgID, err = objects.Programs.ID(prog); err != nil {
		return nil, fmt.Errorf("load demo: %w", err)
	}
	if d.MapID, err = objects.Maps.ID(perfMap); err != nil {
		return nil, fmt.Errorf("load demo: %w", err)
	}
	d.link, err = link.Tracepoint("syscalls", "sys_enter_openat", prog, nil)
	if err != nil {
		return nil, fmt.Errorf("attach demo to %s: %w", DemoTracepoint, objects.PermissionHint(err))
	}
	d.reader, err = events.Open(perfMap, events.Options{CPU: -1, Index: -1})
	if err != nil {
		return nil, fmt.Errorf("read demo events: %w", err)
	}
	return d, nil
}

// Read waits for the next record until the deadline (zero: no deadline).
// It returns os.ErrDeadlineExceeded at the deadline and ErrDemoClosed
// once Close was called.
func (d *Demo) Read(deadline time.Time) (DemoRecord, error) {
	d.reader.SetDeadline(deadline)
	for {
		rec, err := d.reader.Read()
		if err != nil {
			return DemoRecord{}, err
		}
		switch {
		case rec.Kind == events.Lost:
			return DemoRecord{CPU: rec.CPU, Lost: rec.Lost}, nil
		case rec.Kind != events.Sample || len(rec.Data) < 4:
			continue
		}
		// Perf pads raw samples to 8 bytes; the demo's record is 4.
		raw := rec.Data[:4]
		return DemoRecord{CPU: rec.CPU, Raw: raw, Value: binary.LittleEndian.Uint32(raw)}, nil
	}
}

// ProgramInfo returns what the kernel made of the demo program: its
// translated instructions among the rest.
func (d *Demo) ProgramInfo() (*ebpf.ProgramInfo, error) {
	return d.coll.Programs[bpfasm.DemoProgName].Info()
}

// DemoTriggerFile is the file Trigger opens.
const DemoTriggerFile = "/etc/hostname"

// Trigger makes one openat, for a machine where nothing else opens files:
// it opens DemoTriggerFile and closes it.
func (d *Demo) Trigger() error {
	f, err := os.Open(DemoTriggerFile)
	if err != nil {
		return fmt.Errorf("open %s to make an openat: %w", DemoTriggerFile, err)
	}
	return f.Close()
}

// ErrDemoClosed is returned by Read after Close.
var ErrDemoClosed = events.ErrClosed

// Close detaches and unloads the demo. It is safe to call more than once
// and from another goroutine to stop a blocked Read.
func (d *Demo) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if d.reader != nil {
			errs = append(errs, d.reader.Close())
		}
		if d.link != nil {
			errs = append(errs, d.link.Close())
		}
		if d.coll != nil {
			d.coll.Close()
		}
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}
