package testrun

// The one raw bpf(2) call of this package: BPF_PROG_TEST_RUN. cilium/ebpf's
// Program.Run does not return the duration the kernel measured, and panics
// when a program grows a packet past the output buffer, where the kernel
// answers ENOSPC with the size it needed. The struct is zeroed for every
// call.

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// testRunAttr mirrors the BPF_PROG_TEST_RUN part of union bpf_attr (the
// __aligned_u64 pointers as unsafe.Pointer, on 64-bit).
type testRunAttr struct {
	ProgFD      uint32
	Retval      uint32
	DataSizeIn  uint32
	DataSizeOut uint32
	DataIn      unsafe.Pointer
	DataOut     unsafe.Pointer
	Repeat      uint32
	Duration    uint32
	CtxSizeIn   uint32
	CtxSizeOut  uint32
	CtxIn       unsafe.Pointer
	CtxOut      unsafe.Pointer
	Flags       uint32
	CPU         uint32
	BatchSize   uint32
	_           uint32
}

// ptr returns the address of b's first byte, nil for an empty b.
func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// testRun runs the program at fd. dataOut and ctxOut are the buffers the
// kernel fills; it returns their used (or, with ENOSPC, needed) sizes.
func testRun(fd int, repeat uint32, dataIn, dataOut, ctxIn, ctxOut []byte) (retval, duration, dataSize, ctxSize uint32, err error) {
	attr := testRunAttr{
		ProgFD:      uint32(fd),
		DataSizeIn:  uint32(len(dataIn)),
		DataSizeOut: uint32(len(dataOut)),
		DataIn:      ptr(dataIn),
		DataOut:     ptr(dataOut),
		Repeat:      repeat,
		CtxSizeIn:   uint32(len(ctxIn)),
		CtxSizeOut:  uint32(len(ctxOut)),
		CtxIn:       ptr(ctxIn),
		CtxOut:      ptr(ctxOut),
	}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_TEST_RUN, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(dataIn)
	runtime.KeepAlive(dataOut)
	runtime.KeepAlive(ctxIn)
	runtime.KeepAlive(ctxOut)
	if errno != 0 {
		err = errno
	}
	return attr.Retval, attr.Duration, attr.DataSizeOut, attr.CtxSizeOut, err
}
