package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
)

// The metrics the issue names, each of which every scrape must carry.
var wantMetrics = []string{
	"bpfkit_prog_run_count_total", "bpfkit_prog_run_seconds_total", "bpfkit_prog_info",
	"bpfkit_prog_xlated_bytes", "bpfkit_prog_jited_bytes", "bpfkit_prog_memlock_bytes",
	"bpfkit_map_info", "bpfkit_map_max_entries", "bpfkit_map_memlock_bytes",
	"bpfkit_programs", "bpfkit_maps", "bpfkit_links", "bpfkit_stats_enabled",
}

// scrapeTargets loads a program on a tracepoint and a map, both named
// name, so that every metric of wantMetrics has a series on a machine
// with no other BPF objects, and returns the program's id.
func scrapeTargets(t *testing.T, name string) uint32 {
	t.Helper()
	p := testutil.TracepointProgram(t, name)
	testutil.NewMap(t, &ebpf.MapSpec{Name: name, Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	return mustID(t, objects.Programs, p)
}

// parseMetrics parses Prometheus's text exposition format with the
// client library's own parser and checks that every metric is there.
func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, text)
	}
	for _, name := range wantMetrics {
		if mfs[name] == nil || len(mfs[name].GetMetric()) == 0 {
			t.Errorf("no %s", name)
		}
	}
	return mfs
}

// sample returns the value of the series of name whose id label is id.
func sample(t *testing.T, mfs map[string]*dto.MetricFamily, name string, id uint32) float64 {
	t.Helper()
	for _, m := range mfs[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "id" && l.GetValue() == strconv.FormatUint(uint64(id), 10) {
				if m.Counter != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("%s has no series for id %d", name, id)
	return 0
}

// gauge returns the value of the one series of a family without labels.
func gauge(t *testing.T, mfs map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	ms := mfs[name].GetMetric()
	if len(ms) != 1 || ms[0].Gauge == nil {
		t.Fatalf("%s: %v", name, ms)
	}
	return ms[0].GetGauge().GetValue()
}

// servingAddr reads the line `metrics serve` writes once it serves and
// returns the address it names.
func servingAddr(t *testing.T, s *started) string {
	t.Helper()
	line := s.errLine(t)
	var addr string
	if _, err := fmt.Sscanf(line, "serving http://%s", &addr); err != nil || !strings.HasSuffix(addr, "/metrics") {
		t.Fatalf("metrics serve said %q", line)
	}
	return strings.TrimSuffix(addr, "/metrics")
}

func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	var b strings.Builder
	if _, err := fmt.Fprint(&b, readAll(t, resp)); err != nil {
		t.Fatal(err)
	}
	return parseMetrics(t, b.String())
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// TestMetricsServe runs `metrics serve` as a process: two scrapes parse,
// and the counters of a program on a tracepoint the test triggers 500
// times between them grow by at least that; statistics show as on.
func TestMetricsServe(t *testing.T) {
	testutil.RequirePrivileged(t)
	id := scrapeTargets(t, "i11_cli_serve")
	s := startProcess(t, nil, "metrics", "serve", "listen", "127.0.0.1:0")
	addr := servingAddr(t, s)
	first := scrape(t, addr)
	if got := gauge(t, first, "bpfkit_stats_enabled"); got != 1 {
		t.Errorf("bpfkit_stats_enabled %v while serving", got)
	}
	if got := sample(t, first, "bpfkit_prog_info", id); got != 1 {
		t.Errorf("bpfkit_prog_info %v", got)
	}
	testutil.Trigger(500)
	second := scrape(t, addr)
	runs := sample(t, second, "bpfkit_prog_run_count_total", id) - sample(t, first, "bpfkit_prog_run_count_total", id)
	secs := sample(t, second, "bpfkit_prog_run_seconds_total", id) - sample(t, first, "bpfkit_prog_run_seconds_total", id)
	if runs < 500 || secs <= 0 {
		t.Errorf("500 calls between the scrapes: %v more runs, %v more seconds", runs, secs)
	}
	if gauge(t, second, "bpfkit_programs") < 1 || gauge(t, second, "bpfkit_maps") < 0 || gauge(t, second, "bpfkit_links") < 1 {
		t.Errorf("counts: %v programs, %v links", gauge(t, second, "bpfkit_programs"), gauge(t, second, "bpfkit_links"))
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	if code := s.wait(t); code != 0 {
		t.Errorf("after Ctrl-C: exit %d: %s", code, s.errors())
	}
}

// TestMetricsDefaultListen: without listen, `metrics serve` serves on
// 127.0.0.1:9435, bound to the loopback address only.
func TestMetricsDefaultListen(t *testing.T) {
	testutil.RequirePrivileged(t)
	scrapeTargets(t, "i11_cli_listen")
	s := startProcess(t, nil, "metrics", "serve")
	addr := servingAddr(t, s)
	if addr != "127.0.0.1:9435" {
		t.Errorf("serves on %s, want 127.0.0.1:9435", addr)
	}
	scrape(t, addr)
	// The listening socket in /proc/net/tcp: local address 127.0.0.1
	// (0100007F), port 9435 (24DB), state LISTEN (0A); none on another
	// address.
	tcp, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	var listening []string
	for _, line := range strings.Split(string(tcp), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1], ":24DB") && f[3] == "0A" {
			listening = append(listening, f[1])
		}
	}
	if len(listening) != 1 || listening[0] != "0100007F:24DB" {
		t.Errorf("listening sockets on port 9435: %v, want 0100007F:24DB alone", listening)
	}
	tcp6, _ := os.ReadFile("/proc/net/tcp6")
	if strings.Contains(string(tcp6), ":24DB 00000000000000000000000000000000:0000 0A") {
		t.Errorf("listening on port 9435 over IPv6 too:\n%s", tcp6)
	}
	// Another address of this machine, if it has one, is refused.
	if ip := otherAddress(t); ip != "" {
		if c, err := net.Dial("tcp", net.JoinHostPort(ip, "9435")); err == nil {
			c.Close()
			t.Errorf("%s:9435 accepts connections", ip)
		}
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t); code != 0 {
		t.Errorf("after SIGTERM: exit %d: %s", code, s.errors())
	}
}

// otherAddress returns an IPv4 address of this machine other than
// loopback, or "".
func otherAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

// TestMetricsShow: `metrics show` prints one scrape that parses, with a
// program and a map of the test among the series.
func TestMetricsShow(t *testing.T) {
	testutil.RequirePrivileged(t)
	p := testutil.TracepointProgram(t, "i11_cli_show")
	id := mustID(t, objects.Programs, p)
	m := testutil.NewMap(t, &ebpf.MapSpec{Name: "i11_cli_show", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 17})
	mid := mustID(t, objects.Maps, m)
	mfs := parseMetrics(t, mustBpfkit(t, "metrics", "show"))
	if got := sample(t, mfs, "bpfkit_prog_info", id); got != 1 {
		t.Errorf("bpfkit_prog_info %v", got)
	}
	if got := sample(t, mfs, "bpfkit_map_max_entries", mid); got != 17 {
		t.Errorf("bpfkit_map_max_entries %v, want 17", got)
	}
	if got := sample(t, mfs, "bpfkit_prog_xlated_bytes", id); got <= 0 {
		t.Errorf("bpfkit_prog_xlated_bytes %v", got)
	}
}
