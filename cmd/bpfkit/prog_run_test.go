package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// runXDP is an XDP program that marks the packet (its first byte becomes
// 0xaa), strips its first four bytes and returns XDP_TX for packets over
// 100 bytes and XDP_PASS for others: output data and return value both
// depend on the input.
func runXDP(t *testing.T) *ebpf.Program {
	return testutil.NewProgram(t, &ebpf.ProgramSpec{
		Name: "i12_run_xdp", Type: ebpf.XDP, License: "GPL",
		Instructions: ebpfasm.Instructions{
			ebpfasm.Mov.Reg(ebpfasm.R6, ebpfasm.R1),
			ebpfasm.LoadMem(ebpfasm.R2, ebpfasm.R1, 0, ebpfasm.Word), // data
			ebpfasm.LoadMem(ebpfasm.R3, ebpfasm.R1, 4, ebpfasm.Word), // data_end
			ebpfasm.Mov.Reg(ebpfasm.R7, ebpfasm.R3),
			ebpfasm.Sub.Reg(ebpfasm.R7, ebpfasm.R2), // length
			ebpfasm.Mov.Reg(ebpfasm.R4, ebpfasm.R2),
			ebpfasm.Add.Imm(ebpfasm.R4, 1),
			ebpfasm.JGT.Reg(ebpfasm.R4, ebpfasm.R3, "adjust"),
			ebpfasm.StoreImm(ebpfasm.R2, 0, 0xaa, ebpfasm.Byte),
			ebpfasm.Mov.Reg(ebpfasm.R1, ebpfasm.R6).WithSymbol("adjust"),
			ebpfasm.Mov.Imm(ebpfasm.R2, 4),
			ebpfasm.FnXdpAdjustHead.Call(),
			ebpfasm.Mov.Imm(ebpfasm.R0, 2), // XDP_PASS
			ebpfasm.JLE.Imm(ebpfasm.R7, 100, "out"),
			ebpfasm.Mov.Imm(ebpfasm.R0, 3), // XDP_TX
			ebpfasm.Return().WithSymbol("out"),
		},
	})
}

// runSocket is a socket filter that returns the packet's length
// (skb->len).
func runSocket(t *testing.T) *ebpf.Program {
	return testutil.NewProgram(t, &ebpf.ProgramSpec{
		Name: "i12_run_sock", Type: ebpf.SocketFilter, License: "GPL",
		Instructions: ebpfasm.Instructions{
			ebpfasm.LoadMem(ebpfasm.R0, ebpfasm.R1, 0, ebpfasm.Word),
			ebpfasm.Return(),
		},
	})
}

func progIDArg(t *testing.T, p *ebpf.Program) string {
	t.Helper()
	id, err := objects.Programs.ID(p)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(id)
}

// packet returns n bytes that differ from one size to the next.
func packet(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + n)
	}
	return b
}

var durationRE = regexp.MustCompile(`(duration( \(average\))?: )\d+ns|"duration": ?\d+`)

// sansDuration replaces the measured durations, which differ from run to
// run, with 0.
func sansDuration(s string) string {
	return durationRE.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, `"`) {
			return `"duration":0`
		}
		return durationRE.ReplaceAllString(m, "${1}0ns")
	})
}

// TestProgRunMatchesBpftool runs an XDP program and a socket filter on
// packets of several sizes with bpfkit and bpftool, plain, -j and -p:
// the same return values, output data, context and hex dumps.
func TestProgRunMatchesBpftool(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	ctx := filepath.Join(dir, "skb_ctx")
	os.WriteFile(ctx, make([]byte, 192), 0o644) // a zeroed struct __sk_buff
	progs := map[string]string{"xdp": progIDArg(t, runXDP(t)), "socket_filter": progIDArg(t, runSocket(t))}
	for name, id := range progs {
		for _, size := range []int{14, 60, 101, 1514} {
			in := filepath.Join(dir, fmt.Sprintf("pkt%d", size))
			os.WriteFile(in, packet(size), 0o644)
			cases := [][]string{
				{"prog", "run", "id", id, "data_in", in, "data_out", "-"},
				{"-j", "prog", "run", "id", id, "data_in", in, "data_out", "-", "repeat", "3"},
				{"-p", "prog", "run", "id", id, "data_in", in},
			}
			if name == "socket_filter" {
				cases = append(cases, []string{"prog", "run", "id", id, "data_in", in, "ctx_in", ctx, "ctx_out", "-"},
					[]string{"-j", "prog", "run", "id", id, "data_i", in, "ctx_i", ctx, "ctx_o", "-"})
			}
			for _, args := range cases {
				want := sansDuration(string(testutil.BpftoolOutput(t, args...)))
				got := sansDuration(mustBpfkit(t, args...))
				if got != want {
					t.Errorf("%s, %d bytes: bpfkit %s: %s", name, size, strings.Join(args, " "), testutil.FirstDiff([]byte(want), []byte(got)))
				}
			}
			// data_out FILE: the same bytes as bpftool's file.
			ours, theirs := filepath.Join(dir, "ours"), filepath.Join(dir, "theirs")
			mustBpfkit(t, "prog", "run", "id", id, "data_in", in, "data_out", ours)
			testutil.BpftoolOutput(t, "prog", "run", "id", id, "data_in", in, "data_out", theirs)
			a, _ := os.ReadFile(ours)
			b, _ := os.ReadFile(theirs)
			if !bytes.Equal(a, b) || len(a) == 0 {
				t.Errorf("%s, %d bytes: data_out file %x, bpftool's %x", name, size, a, b)
			}
			// The kernel keeps an XDP packet at least 14 bytes long: the
			// shortest one stays whole, with its mark.
			want := packet(size)[4:]
			if size == 14 {
				want = append([]byte{0xaa}, packet(size)[1:]...)
			}
			if name == "xdp" && !bytes.Equal(a, want) {
				t.Errorf("xdp, %d bytes: output %x, want %x", size, a, want)
			}
		}
	}
}

// TestProgRunPcap runs the XDP program on each packet of a pcap file: a
// line per packet with the return value bpftool gives for that packet
// alone, and data_out FILE a pcap of the packets as the program left them.
func TestProgRunPcap(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	id := progIDArg(t, runXDP(t))
	sizes := []int{60, 1514, 98, 14}
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65536, layers.LinkTypeEthernet)
	start := time.Unix(1700000000, 0)
	for i, n := range sizes {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: start.Add(time.Duration(i) * time.Second), CaptureLength: n, Length: n}, packet(n))
	}
	pcap := filepath.Join(dir, "in.pcap")
	os.WriteFile(pcap, buf.Bytes(), 0o644)

	outPcap := filepath.Join(dir, "out.pcap")
	text := mustBpfkit(t, "prog", "run", "id", id, "data_in", pcap, "data_out", outPcap)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != len(sizes) {
		t.Fatalf("%d lines for %d packets:\n%s", len(lines), len(sizes), text)
	}
	rd, err := pcapgo.NewReader(bytes.NewReader(must(os.ReadFile(outPcap))))
	if err != nil {
		t.Fatalf("data_out is not a pcap file: %v", err)
	}
	for i, n := range sizes {
		single := filepath.Join(dir, "single")
		os.WriteFile(single, packet(n), 0o644)
		want := sansDuration(string(testutil.BpftoolOutput(t, "prog", "run", "id", id, "data_in", single, "data_out", filepath.Join(dir, "theirs"))))
		if got := sansDuration(lines[i]); got != fmt.Sprintf("packet %d (%d bytes): %s", i+1, n, strings.TrimSpace(want)) {
			t.Errorf("packet %d: %q, bpftool on the packet alone: %q", i+1, got, want)
		}
		data, ci, err := rd.ReadPacketData()
		if err != nil {
			t.Fatalf("output packet %d: %v", i+1, err)
		}
		if theirs := must(os.ReadFile(filepath.Join(dir, "theirs"))); !bytes.Equal(data, theirs) || !ci.Timestamp.Equal(start.Add(time.Duration(i)*time.Second)) {
			t.Errorf("output packet %d: %x at %v, bpftool's data_out %x", i+1, data, ci.Timestamp, theirs)
		}
	}
	js := testutil.DecodeJSON[[]map[string]any](t, []byte(mustBpfkit(t, "-j", "prog", "run", "id", id, "data_in", pcap, "data_out", "-")))
	if len(js) != len(sizes) || js[1]["packet"] == nil || js[1]["data_out"] == nil || fmt.Sprint(js[1]["retval"]) != "3" {
		t.Errorf("-j with a pcap: %v", js)
	}

	// The same packets in a pcapng file (Wireshark's format): the same
	// results, the same output packets.
	var ng bytes.Buffer
	nw, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		nw.WritePacket(gopacket.CaptureInfo{Timestamp: start.Add(time.Duration(i) * time.Second), CaptureLength: n, Length: n, InterfaceIndex: 0}, packet(n))
	}
	nw.Flush()
	ngFile, ngOut := filepath.Join(dir, "in.pcapng"), filepath.Join(dir, "out-ng.pcap")
	os.WriteFile(ngFile, ng.Bytes(), 0o644)
	if got := sansDuration(mustBpfkit(t, "prog", "run", "id", id, "data_in", ngFile, "data_out", ngOut)); got != sansDuration(text) {
		t.Errorf("pcapng: %q, pcap: %q", got, text)
	}
	if a, b := must(os.ReadFile(ngOut)), must(os.ReadFile(outPcap)); !bytes.Equal(a, b) {
		t.Errorf("pcapng's data_out differs from pcap's: %s", testutil.FirstDiff(b, a))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestProgRunErrors: one line, a non-zero exit, nothing on stdout.
func TestProgRunErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	pkt := filepath.Join(dir, "pkt")
	os.WriteFile(pkt, packet(60), 0o644)
	xdp := progIDArg(t, runXDP(t))
	tp := progIDArg(t, testutil.NewProgram(t, &ebpf.ProgramSpec{
		Name: "i12_run_tp", Type: ebpf.TracePoint, License: "GPL", Instructions: testutil.ReturnZero(),
	}))
	garbage := filepath.Join(dir, "bad.pcap")
	os.WriteFile(garbage, []byte{0xd4, 0xc3, 0xb2, 0xa1, 1, 2}, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prog", "run", "id", xdp, "data_in", filepath.Join(dir, "missing")}, "failed to open"},
		{[]string{"prog", "run", "id", tp, "data_in", pkt}, "cannot test-run programs of this type (TracePoint programs)"},
		{[]string{"prog", "run", "id", xdp, "dat", pkt}, "ambiguous prefix: 'dat'"},
		{[]string{"prog", "run", "id", xdp, "data_in", "-", "ctx_in", "-"}, "standard input for both"},
		{[]string{"prog", "run", "id", xdp, "data_in", pkt, "repeat", "many"}, "can't parse many as repeat number"},
		{[]string{"prog", "run", "id", xdp, "data_in", pkt, "data_size_out", "8"}, "more than data_size_out 8"},
		{[]string{"prog", "run", "id", xdp, "data_in", pkt, "bogus", "1"}, "got: 'bogus'"},
		{[]string{"prog", "run", "id", xdp}, "expected 'data_in' or 'ctx_in'"},
		{[]string{"prog", "run", "id", xdp, "data_in", garbage}, "read pcap"},
		{[]string{"prog", "run", "id", "4294967295", "data_in", pkt}, "4294967295"},
	} {
		r := bpfkit(t, tc.args...)
		if r.code == 0 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("bpfkit %s: exit %d, stdout %q, stderr %q; want one error line with %q",
				strings.Join(tc.args, " "), r.code, r.stdout, r.stderr, tc.want)
		}
	}
}
