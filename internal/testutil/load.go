package testutil

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	ebpfbtf "github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// LoadCollection loads every program and map of the object file at path
// with cilium/ebpf and unloads them when the test ends. It needs root (see
// RequirePrivileged).
func LoadCollection(tb testing.TB, path string) *ebpf.Collection {
	tb.Helper()
	RequirePrivileged(tb)
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		tb.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		tb.Fatalf("load %s: %v", filepath.Base(path), err)
	}
	tb.Cleanup(coll.Close)
	return coll
}

// NewProgram loads spec and unloads it when the test ends.
func NewProgram(tb testing.TB, spec *ebpf.ProgramSpec) *ebpf.Program {
	tb.Helper()
	return create(tb, "load "+spec.Name, ebpf.NewProgram, spec)
}

// NewXDPWithFunc loads an XDP program that returns XDP_PASS, named name
// (the kernel keeps 15 characters), whose first instruction carries BTF
// function info for a global function name: what fentry and fexit attach
// to. It unloads it when the test ends.
func NewXDPWithFunc(tb testing.TB, name string) *ebpf.Program {
	tb.Helper()
	fn := &ebpfbtf.Func{
		Name:    name,
		Type:    &ebpfbtf.FuncProto{Return: &ebpfbtf.Int{Name: "int", Size: 4, Encoding: ebpfbtf.Signed}},
		Linkage: ebpfbtf.GlobalFunc,
	}
	insns := ebpfasm.Instructions{ebpfasm.Mov.Imm(ebpfasm.R0, 2), ebpfasm.Return()}
	insns[0] = ebpfbtf.WithFuncMetadata(insns[0], fn)
	return NewProgram(tb, &ebpf.ProgramSpec{Name: name[:min(len(name), 15)], Type: ebpf.XDP, License: "GPL", Instructions: insns})
}

// NewMap creates a map from spec and closes it when the test ends.
func NewMap(tb testing.TB, spec *ebpf.MapSpec) *ebpf.Map {
	tb.Helper()
	return create(tb, "create map "+spec.Name, ebpf.NewMap, spec)
}

// create makes a kernel object from spec and closes it when the test ends.
func create[S any, O interface{ Close() error }](tb testing.TB, what string, make func(S) (O, error), spec S) O {
	tb.Helper()
	obj, err := make(spec)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	tb.Cleanup(func() { obj.Close() })
	return obj
}

// ReturnZero is the smallest program: r0 = 0; exit.
func ReturnZero() ebpfasm.Instructions {
	return ebpfasm.Instructions{ebpfasm.Mov.Imm(ebpfasm.R0, 0), ebpfasm.Return()}
}

// RunOnCPU runs p n times with 64 bytes of input (BPF_PROG_TEST_RUN) on
// one CPU, so that what it writes to a per-CPU buffer (a perf event
// array's BPF_F_CURRENT_CPU ring) goes to that CPU's.
func RunOnCPU(p *ebpf.Program, cpu, n int) error {
	errc := make(chan error, 1)
	go func() {
		// The thread stays locked: it ends with the goroutine instead of
		// going back to the scheduler bound to one CPU.
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- err
			return
		}
		for i := 0; i < n; i++ {
			if _, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	return <-errc
}
