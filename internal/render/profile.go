package render

import (
	"bufio"
	"fmt"

	"github.com/bpfkit/bpfkit/internal/jsonw"
	"github.com/bpfkit/bpfkit/objects/profile"
)

// Profile: bpftool's table of counters, run count first, with ratios
// (instructions per cycle, misses per million instructions) and the share
// of time counted when counters were multiplexed.
func (p *textPrinter) Profile(r *profile.Result) error {
	w := bufio.NewWriter(p.w)
	fmt.Fprintf(w, "\n%18d %-20s\n", r.RunCnt, "run_cnt")
	value := map[string]uint64{}
	for _, rd := range r.Readings {
		value[rd.Metric.Name] = rd.Value
	}
	for _, rd := range r.Readings {
		fmt.Fprintf(w, "%18d %-20s", rd.Value, rd.Metric.Name)
		if base, ok := value[rd.Metric.Ratio]; ok && rd.Metric.Ratio != "" && base > 0 {
			fmt.Fprintf(w, "# %8.2f %-30s", float64(rd.Value)*rd.Metric.Mul/float64(base), rd.Metric.Per)
		} else {
			fmt.Fprintf(w, "%-41s", "")
		}
		if rd.Enabled > rd.Running {
			fmt.Fprintf(w, "(%4.2f%%)", float64(rd.Running)*100/float64(rd.Enabled))
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}

// Profile: [{"metric":..,"run_cnt":..,"value":..,"enabled":..,"running":..}].
func (p *jsonPrinter) Profile(r *profile.Result) error {
	bw := bufio.NewWriter(p.w)
	j := jsonw.New(bw, p.pretty)
	j.StartArray()
	for _, rd := range r.Readings {
		j.StartObject()
		j.Name("metric")
		j.String(rd.Metric.Name)
		for _, f := range []struct {
			k string
			v uint64
		}{{"run_cnt", r.RunCnt}, {"value", rd.Value}, {"enabled", rd.Enabled}, {"running", rd.Running}} {
			j.Name(f.k)
			j.Uint(f.v)
		}
		j.EndObject()
	}
	j.EndArray()
	bw.WriteByte('\n')
	return bw.Flush()
}
