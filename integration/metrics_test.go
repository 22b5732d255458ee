package integration

import (
	"slices"
	"time"

	"github.com/stretchr/testify/assert"
)

// metricValue sums the samples of a counter (or a histogram's count) named name
// whose labels include want, as the worker's /metrics would show them.
func (s *stack) metricValue(name string, want map[string]string) float64 {
	s.t.Helper()
	families, err := s.metrics.Registry.Gather()
	if err != nil {
		s.t.Fatalf("gathering metrics: %v", err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metric
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

// wantMetrics waits (up to 10 s: tally reports on an interval) until every
// metric has its expected value, then checks them all, so a failure names each
// wrong one.
func (s *stack) wantMetrics(want []wantMetric) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if slices.IndexFunc(want, func(w wantMetric) bool { return s.metricValue(w.name, w.labels) != w.value }) < 0 {
			return
		}
	}
	for _, w := range want {
		assert.Equal(s.t, w.value, s.metricValue(w.name, w.labels), "%s%v", w.name, w.labels)
	}
}

type wantMetric struct {
	name   string
	labels map[string]string
	value  float64
}
