package metrics

import (
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bpfkit/bpfkit/internal/testutil"
	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/stats"
)

// gather scrapes c through a pedantic registry, which checks every metric
// against its description, and returns the families by name.
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	return byName
}

// series returns the one series of family name whose id label is id.
func series(t *testing.T, mfs map[string]*dto.MetricFamily, name string, id uint32) *dto.Metric {
	t.Helper()
	mf := mfs[name]
	if mf == nil {
		t.Fatalf("no %s", name)
	}
	var found *dto.Metric
	for _, m := range mf.GetMetric() {
		if label(m, "id") == strconv.FormatUint(uint64(id), 10) {
			if found != nil {
				t.Fatalf("%s: two series for id %d", name, id)
			}
			found = m
		}
	}
	if found == nil {
		t.Fatalf("%s: no series for id %d", name, id)
	}
	return found
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return -1
}

// TestCollector: a program on a tracepoint the test triggers and a map
// appear with their labels and values; statistics held on by the
// collector's switch count the runs and show as enabled.
func TestCollector(t *testing.T) {
	testutil.RequirePrivileged(t)
	sw, err := stats.Enable(stats.Auto)
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	p := testutil.TracepointProgram(t, "i11_metrics_tp")
	m := testutil.NewMap(t, &ebpf.MapSpec{Name: "i11_metrics_map", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 7})
	progID, err := objects.Programs.ID(p)
	if err != nil {
		t.Fatal(err)
	}
	mapID, err := objects.Maps.ID(m)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Trigger(50)
	c := NewCollector(sw)
	mfs := gather(t, c)

	info := series(t, mfs, "bpfkit_prog_info", progID)
	for l, want := range map[string]string{"name": "i11_metrics_tp", "type": "tracepoint", "jited": "true", "uid": "0"} {
		if got := label(info, l); got != want {
			t.Errorf("prog_info %s=%q, want %q", l, got, want)
		}
	}
	if len(label(info, "tag")) != 16 || len(label(info, "loaded_at")) != len("2006-01-02T15:04:05Z") || value(info) != 1 {
		t.Errorf("prog_info: %v", info)
	}
	if runs := value(series(t, mfs, "bpfkit_prog_run_count_total", progID)); runs < 50 {
		t.Errorf("run count %v after 50 calls", runs)
	}
	if secs := value(series(t, mfs, "bpfkit_prog_run_seconds_total", progID)); secs <= 0 || secs > 1 {
		t.Errorf("run seconds %v after 50 calls", secs)
	}
	for _, name := range []string{"bpfkit_prog_xlated_bytes", "bpfkit_prog_jited_bytes", "bpfkit_prog_memlock_bytes"} {
		if v := value(series(t, mfs, name, progID)); v <= 0 {
			t.Errorf("%s = %v", name, v)
		}
	}
	if v := value(series(t, mfs, "bpfkit_prog_xlated_bytes", progID)); v != 16 {
		t.Errorf("xlated %v bytes, want 16 (two instructions)", v)
	}
	mi := series(t, mfs, "bpfkit_map_info", mapID)
	if label(mi, "name") != "i11_metrics_map" || label(mi, "type") != "hash" || label(mi, "key_bytes") != "4" || label(mi, "value_bytes") != "8" {
		t.Errorf("map_info: %v", mi)
	}
	if v := value(series(t, mfs, "bpfkit_map_max_entries", mapID)); v != 7 {
		t.Errorf("max entries %v", v)
	}
	if v := value(series(t, mfs, "bpfkit_map_memlock_bytes", mapID)); v <= 0 {
		t.Errorf("map memlock %v", v)
	}
	for _, name := range []string{"bpfkit_programs", "bpfkit_maps", "bpfkit_links", "bpfkit_online_cpus", "bpfkit_stats_enabled"} {
		mf := mfs[name]
		if mf == nil || len(mf.GetMetric()) != 1 || value(mf.GetMetric()[0]) < 1 {
			t.Errorf("%s: %v, want one series of at least 1", name, mf)
		}
	}

	// A second scrape reads the kernel again: more runs, and the program
	// gone once unloaded.
	testutil.Trigger(10)
	runs := value(series(t, mfs, "bpfkit_prog_run_count_total", progID))
	if again := value(series(t, gather(t, c), "bpfkit_prog_run_count_total", progID)); again < runs+10 {
		t.Errorf("second scrape: %v runs, want at least %v", again, runs+10)
	}
}

// TestStatsDisabled: with no switch held and the sysctl off, the kernel
// counts nothing and bpfkit_stats_enabled says 0, unless another process
// holds statistics on meanwhile (as Status reports).
func TestStatsDisabled(t *testing.T) {
	testutil.RequirePrivileged(t)
	st, err := stats.ReadStatus(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := value(gather(t, NewCollector(nil))["bpfkit_stats_enabled"].GetMetric()[0])
	after, err := stats.ReadStatus(nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Enabled() == after.Enabled() && got != boolValue(st.Enabled()) {
		t.Errorf("bpfkit_stats_enabled %v, status %+v", got, st)
	}
}
