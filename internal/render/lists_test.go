package render

import (
	"io"
	"strings"
	"testing"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// TestTableGolden keeps the tables of prog, map and link show, with the
// cells that need care (unknown types, owners, pins), in a golden file.
func TestTableGolden(t *testing.T) {
	at, uid, jited, memlock := int64(1795322160), uint32(0), uint32(246), int64(4096)
	progs := []*objects.ProgramInfo{
		{ProgramHeader: objects.ProgramHeader{ID: 540, Type: objects.ProgTypeName(ebpf.SchedCLS), Name: "demo_prog", Tag: "95be9623b37d5819", GPLCompatible: true},
			LoadedAt: &at, UID: &uid, BytesXlated: 408, Jited: true, BytesJited: &jited, BytesMemlock: &memlock,
			MapIDs: []uint32{131, 134}, BTFID: 111},
		{ProgramHeader: objects.ProgramHeader{ID: 7, Type: objects.ProgTypeName(ebpf.ProgramType(999)), Tag: "0000000000000000"}, BytesXlated: 16},
	}
	var buf strings.Builder
	p := New(&buf, io.Discard, Format{})
	if err := p.Programs(progs, false, true); err != nil {
		t.Fatal(err)
	}
	owner := objects.ProgTypeName(ebpf.SocketFilter)
	maps := []*objects.MapInfo{
		{ID: 131, Type: objects.MapTypeName(ebpf.Hash), Name: "stats", BytesKey: 4, BytesValue: 24, MaxEntries: 64, BytesMemlock: &memlock},
		{ID: 209, Type: objects.MapTypeName(ebpf.ProgramArray), Name: "jmp_table", Flags: 0x480, BytesKey: 4, BytesValue: 4,
			MaxEntries: 4, OwnerProgType: &owner, Frozen: 1, BTFID: 135, Pinned: &[]string{"/sys/fs/bpf/jmp"}},
	}
	if err := p.Maps(maps, false, true); err != nil {
		t.Fatal(err)
	}
	links := []*objects.LinkInfo{
		{ID: 118, Type: objects.LinkTypeName(link.PerfEventType), ProgID: 398, Details: []objects.Field{
			{Key: "tracepoint", Value: "sys_enter_openat"}, {Key: "cookie", Value: uint64(0)}}},
		{ID: 95, Type: objects.LinkTypeName(link.IterType), ProgID: 555, Details: []objects.Field{
			{Key: "target_name", Value: "bpf_map"}}, Pinned: &[]string{"/sys/fs/bpf/my_iter"}},
	}
	if err := p.Links(links, false, true); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "show.golden", []byte(buf.String()))
}
