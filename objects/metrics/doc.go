// Package metrics holds the BPF objects of the running kernel as
// Prometheus metrics: Collector, a prometheus.Collector that reads every
// program, map and link afresh at each scrape (no timer, no cached state)
// and describes them with Prometheus's naming conventions: counters end in
// _total, run time is in seconds, sizes in bytes, and each series is
// labelled with the object's id, name and type (and a program's tag).
//
// The package returns metrics to the client library and nothing else: it
// never prints, never serves HTTP and never writes the exposition format;
// the command registers the Collector and the client library encodes.
package metrics
