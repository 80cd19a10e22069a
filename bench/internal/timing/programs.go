package timing

import (
	"fmt"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
)

// LoadPrograms loads n small socket filters named prefix0, prefix1...,
// each using one array map named prefix, and returns them with a
// function that unloads them all and the map.
func LoadPrograms(n int, prefix string) ([]*ebpf.Program, func(), error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: prefix, Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("create map: %w", err)
	}
	var progs []*ebpf.Program
	unload := func() {
		for _, p := range progs {
			p.Close()
		}
		m.Close()
	}
	for i := range n {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name: fmt.Sprintf("%s%d", prefix, i), Type: ebpf.SocketFilter, License: "GPL",
			Instructions: ebpfasm.Instructions{
				ebpfasm.LoadMapPtr(ebpfasm.R1, m.FD()),
				ebpfasm.Mov.Imm(ebpfasm.R0, 0),
				ebpfasm.Return(),
			},
		})
		if err != nil {
			unload()
			return nil, nil, fmt.Errorf("load program %d: %w", i, err)
		}
		progs = append(progs, p)
	}
	return progs, unload, nil
}
