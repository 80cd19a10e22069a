package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	ebpfbtf "github.com/cilium/ebpf/btf"

	"github.com/bpfkit/bpfkit/objects"
)

// lostLogSize is the verifier log buffer of a re-verification: the
// kernel's log rotates, so a longer log keeps its tail, where the
// complaint is.
const lostLogSize = 16 << 20

// lostLog verifies program ps of spec again, by itself, to read the
// verifier log cilium/ebpf drops when the kernel answers EFAULT (its
// verifier answers so for some limits, such as "The sequence of 8193
// jumps is too complex", as well as for its own bugs). It creates
// unpinned copies of the maps the program uses and closes them after.
// Programs whose load cilium/ebpf prepares further (CO-RE relocations,
// kfuncs) are not re-verified: the log would be of other code.
func lostLog(spec *ebpf.CollectionSpec, ps *ebpf.ProgramSpec, level ebpf.LogLevel) ([]string, error) {
	insns := ps.Copy().Instructions
	maps := map[string]*ebpf.Map{}
	defer func() {
		for _, m := range maps {
			m.Close()
		}
	}()
	for i := range insns {
		ins := &insns[i]
		if ebpfbtf.CORERelocationMetadata(ins) != nil {
			return nil, errors.New("the program has CO-RE relocations")
		}
		if ins.IsKfuncCall() {
			return nil, errors.New("the program calls kfuncs")
		}
		if !ins.IsLoadFromMap() || ins.Reference() == "" || maps[ins.Reference()] != nil {
			continue
		}
		ms := spec.Maps[ins.Reference()]
		if ms == nil {
			return nil, fmt.Errorf("the program refers to %s, which is not a map", ins.Reference())
		}
		ms = ms.Copy()
		ms.Pinning = ebpf.PinNone
		m, err := ebpf.NewMap(ms)
		if err != nil {
			return nil, fmt.Errorf("map %s: %w", ins.Reference(), err)
		}
		maps[ins.Reference()] = m
	}
	for name, m := range maps {
		if err := insns.AssociateMap(name, m); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	var bo binary.ByteOrder = binary.LittleEndian // cilium/ebpf takes only these two
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		bo = binary.BigEndian
	}
	if err := insns.Marshal(&buf, bo); err != nil {
		return nil, err
	}
	if level == 0 {
		level = ebpf.LogLevelBranch
	}
	logBuf := make([]byte, lostLogSize)
	objects.LoadRaw(objects.RawProgram{
		Type: uint32(ps.Type), AttachType: uint32(ps.AttachType), Insns: buf.Bytes(),
		License: ps.License, LogLevel: uint32(level),
	}, logBuf)
	log := strings.TrimRight(objects.VerifierLog(logBuf), "\n")
	if log == "" {
		return nil, errors.New("the kernel wrote no log")
	}
	return strings.Split(log, "\n"), nil
}
