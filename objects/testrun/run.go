package testrun

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// DefaultSizeOut is the size of the output buffers when the caller gives
// none, as in bpftool: 32 KiB.
const DefaultSizeOut = 32 * 1024

// Input is what a program runs on.
type Input struct {
	// Data is the packet (or other data); Ctx the context, e.g. a
	// struct __sk_buff or xdp_md. Either may be empty.
	Data, Ctx []byte
	// DataSizeOut and CtxSizeOut are the sizes of the buffers for the data
	// and context the program leaves; 0 means DefaultSizeOut (when there
	// is data, or a context, in).
	DataSizeOut, CtxSizeOut uint32
	// Repeat runs the program this many times (at least once); the
	// duration is the average.
	Repeat uint32
}

// Result is one run's outcome.
type Result struct {
	Retval uint32
	// Duration is the average run time in nanoseconds, as the kernel
	// measured it.
	Duration uint32
	// DataOut and CtxOut are the data and context as the program left
	// them: nil when there was no data (context) in.
	DataOut, CtxOut []byte
}

// ErrNotSupported is returned for program types the kernel cannot
// test-run.
var ErrNotSupported = errors.New("the kernel cannot test-run programs of this type")

// Run runs prog on in with BPF_PROG_TEST_RUN.
func Run(prog *ebpf.Program, in Input) (*Result, error) {
	var dataOut, ctxOut []byte
	if len(in.Data) > 0 {
		dataOut = make([]byte, sizeOr(in.DataSizeOut))
	}
	if len(in.Ctx) > 0 {
		ctxOut = make([]byte, sizeOr(in.CtxSizeOut))
	}
	repeat := max(in.Repeat, 1)
	for {
		retval, duration, dataSize, ctxSize, err := testRun(prog.FD(), repeat, in.Data, dataOut, in.Ctx, ctxOut)
		// A signal can interrupt a repeated run; a single run has run
		// when EINTR comes (older kernels check signals after it).
		if errors.Is(err, unix.EINTR) && repeat > 1 {
			continue
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return nil, describe(prog, err, dataSize, ctxSize, len(dataOut), len(ctxOut))
		}
		r := &Result{Retval: retval, Duration: duration}
		if dataOut != nil {
			r.DataOut = dataOut[:min(int(dataSize), len(dataOut))]
		}
		if ctxOut != nil {
			r.CtxOut = ctxOut[:min(int(ctxSize), len(ctxOut))]
		}
		return r, nil
	}
}

func sizeOr(n uint32) uint32 {
	if n == 0 {
		return DefaultSizeOut
	}
	return n
}

// errENOTSUPP is the kernel's internal ENOTSUPP (524), which reaches user
// space for program types without test-run support.
const errENOTSUPP = unix.Errno(524)

// describe says why a run failed, in terms of what the user gave.
func describe(prog *ebpf.Program, err error, dataSize, ctxSize uint32, dataCap, ctxCap int) error {
	switch {
	case errors.Is(err, errENOTSUPP), errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("failed to run program: %w (%s programs)", ErrNotSupported, progType(prog))
	case errors.Is(err, unix.ENOSPC):
		if int(dataSize) > dataCap {
			return fmt.Errorf("failed to run program: output data is %d bytes, more than data_size_out %d: %w", dataSize, dataCap, err)
		}
		if int(ctxSize) > ctxCap {
			return fmt.Errorf("failed to run program: output context is %d bytes, more than ctx_size_out %d: %w", ctxSize, ctxCap, err)
		}
	}
	return fmt.Errorf("failed to run program: %w", err)
}

func progType(prog *ebpf.Program) string {
	if info, err := prog.Info(); err == nil {
		return info.Type.String()
	}
	return "this type of"
}
