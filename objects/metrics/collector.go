package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bpfkit/bpfkit/objects"
	"github.com/bpfkit/bpfkit/objects/stats"
)

// Namespace is the first word of every metric name.
const Namespace = "bpfkit"

// The labels that name an object in every series about it.
var (
	progLabels = []string{"id", "name", "type", "tag"}
	mapLabels  = []string{"id", "name", "type"}
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
}

// The metrics, by name.
var (
	progInfo = desc("prog_info", "A loaded BPF program (always 1), with what is known of it as labels: jited, btf_id (0 for none), loaded_at (RFC 3339, UTC) and uid.",
		append(progLabels, "jited", "btf_id", "loaded_at", "uid")...)
	progRuns = desc("prog_run_count_total", "Runs of the program since it was loaded, counted while run-time statistics are on (see bpfkit_stats_enabled).",
		progLabels...)
	progRunTime = desc("prog_run_seconds_total", "Time the program ran since it was loaded, summed over all CPUs, counted while run-time statistics are on.",
		progLabels...)
	progRecursion = desc("prog_recursion_misses_total", "Runs of the program the kernel skipped because it was already running on that CPU.",
		progLabels...)
	progXlated  = desc("prog_xlated_bytes", "Size of the program's instructions after the verifier (xlated).", progLabels...)
	progJited   = desc("prog_jited_bytes", "Size of the program's JIT-compiled machine code (0 when not JIT-compiled).", progLabels...)
	progMemlock = desc("prog_memlock_bytes", "Memory the program is charged for (memlock in its fdinfo).", progLabels...)

	mapInfo = desc("map_info", "A BPF map (always 1), with what is known of it as labels: key_bytes, value_bytes, flags (hex), btf_id (0 for none) and frozen.",
		append(mapLabels, "key_bytes", "value_bytes", "flags", "btf_id", "frozen")...)
	mapMaxEntries = desc("map_max_entries", "Maximum number of entries of the map.", mapLabels...)
	mapMemlock    = desc("map_memlock_bytes", "Memory the map is charged for (memlock in its fdinfo).", mapLabels...)

	programs     = desc("programs", "Number of BPF programs loaded.")
	maps         = desc("maps", "Number of BPF maps.")
	links        = desc("links", "Number of BPF links.")
	statsEnabled = desc("stats_enabled", "Whether the kernel counts programs' runs and run time (1) or not (0): kernel.bpf_stats_enabled is 1 or a process holds a BPF_ENABLE_STATS descriptor.")
	onlineCPUs   = desc("online_cpus", "CPUs online: rate(bpfkit_prog_run_seconds_total[5m]) / bpfkit_online_cpus is a program's share of the machine.")
)

var allDescs = []*prometheus.Desc{
	progInfo, progRuns, progRunTime, progRecursion, progXlated, progJited, progMemlock,
	mapInfo, mapMaxEntries, mapMemlock, programs, maps, links, statsEnabled, onlineCPUs,
}

// Collector reads the kernel's BPF programs, maps and links at each
// scrape and gives them as metrics. A failure to read one kind reports an
// error for that kind and still gives the others.
type Collector struct {
	stats *stats.Switch
	// progs keeps each program's name and memlock, which never change,
	// from one scrape to the next.
	progs objects.ProgramCache
}

// NewCollector returns a Collector. sw is the statistics switch the
// process holds while it serves, or nil: it counts towards
// bpfkit_stats_enabled.
func NewCollector(sw *stats.Switch) *Collector { return &Collector{stats: sw} }

// Describe sends the description of every metric the Collector gives.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect reads the kernel and sends the metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	// Programs and maps are read at the same time: on a machine with
	// thousands of programs they are most of the scrape.
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.collectMaps(ch)
	}()
	c.collectPrograms(ch)
	if n, err := objects.Links.Count(); err != nil {
		ch <- prometheus.NewInvalidMetric(links, err)
	} else {
		ch <- gauge(links, float64(n))
	}
	if st, err := stats.ReadStatus(c.stats); err != nil {
		ch <- prometheus.NewInvalidMetric(statsEnabled, err)
	} else {
		ch <- gauge(statsEnabled, boolValue(st.Enabled()))
	}
	if n, err := stats.OnlineCPUs(); err != nil {
		ch <- prometheus.NewInvalidMetric(onlineCPUs, err)
	} else {
		ch <- gauge(onlineCPUs, float64(n))
	}
	<-done
}

func (c *Collector) collectPrograms(ch chan<- prometheus.Metric) {
	progs, err := objects.DescribePrograms(&c.progs)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(programs, err)
		return
	}
	ch <- gauge(programs, float64(len(progs)))
	for _, p := range progs {
		ids, typ := id(p.ID), p.Type.String()
		l := pairs("id", ids, "name", p.Name, "tag", p.Tag, "type", typ)
		loaded, uid := "", ""
		if at, ok := p.LoadTime(); ok {
			loaded = at.UTC().Format(time.RFC3339)
		}
		if p.UID != nil {
			uid = strconv.FormatUint(uint64(*p.UID), 10)
		}
		var runs, runTime uint64
		if p.RunCnt != nil {
			runs = *p.RunCnt
		}
		if p.RunTimeNs != nil {
			runTime = *p.RunTimeNs
		}
		var jited uint32
		if p.BytesJited != nil {
			jited = *p.BytesJited
		}
		ms := []sample{
			{progInfo, pairs("btf_id", id(p.BTFID), "id", ids, "jited", strconv.FormatBool(p.Jited),
				"loaded_at", loaded, "name", p.Name, "tag", p.Tag, "type", typ, "uid", uid), 1, false},
			{progRuns, l, float64(runs), true},
			{progRunTime, l, float64(runTime) / 1e9, true},
			{progRecursion, l, float64(p.RecursionMisses), true},
			{progXlated, l, float64(p.BytesXlated), false},
			{progJited, l, float64(jited), false},
		}
		if p.BytesMemlock != nil {
			ms = append(ms, sample{progMemlock, l, float64(*p.BytesMemlock), false})
		}
		for i := range ms {
			ch <- &ms[i]
		}
	}
}

// sample is one sample of a program or map: unlike
// prometheus.NewConstMetric, which makes label pairs for each sample, the
// samples of one object share its label pairs (a scrape of 2,000 programs
// has 14,000 samples).
type sample struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair // sorted by name, as the registry wants them
	value   float64
	counter bool
}

func (s *sample) Desc() *prometheus.Desc { return s.desc }

func (s *sample) Write(m *dto.Metric) error {
	m.Label = s.labels
	if s.counter {
		m.Counter = &dto.Counter{Value: &s.value}
	} else {
		m.Gauge = &dto.Gauge{Value: &s.value}
	}
	return nil
}

// pairs makes label pairs of names and values, given in the order of
// their names.
func pairs(kv ...string) []*dto.LabelPair {
	out := make([]*dto.LabelPair, len(kv)/2)
	backing := make([]dto.LabelPair, len(kv)/2)
	for i := range out {
		backing[i].Name, backing[i].Value = &kv[2*i], &kv[2*i+1]
		out[i] = &backing[i]
	}
	return out
}

func (c *Collector) collectMaps(ch chan<- prometheus.Metric) {
	all, err := objects.Maps.Describe(objects.Selector{})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(maps, err)
		return
	}
	ch <- gauge(maps, float64(len(all)))
	for _, m := range all {
		ids, typ := id(m.ID), m.Type.String()
		l := pairs("id", ids, "name", m.Name, "type", typ)
		ms := []sample{
			{mapInfo, pairs("btf_id", id(m.BTFID), "flags", "0x"+strconv.FormatUint(uint64(m.Flags), 16),
				"frozen", strconv.FormatBool(m.Frozen != 0), "id", ids, "key_bytes", id(m.BytesKey),
				"name", m.Name, "type", typ, "value_bytes", id(m.BytesValue)), 1, false},
			{mapMaxEntries, l, float64(m.MaxEntries), false},
		}
		if m.BytesMemlock != nil {
			ms = append(ms, sample{mapMemlock, l, float64(*m.BytesMemlock), false})
		}
		for i := range ms {
			ch <- &ms[i]
		}
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func id(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
