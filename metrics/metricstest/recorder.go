// Package metricstest records what is emitted through a Temporal SDK metrics
// handler, for tests: the SDK's own test handler is internal.
package metricstest

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Recorder is a client.MetricsHandler that keeps every value. Pass it to
// testsuite.WorkflowTestSuite.SetMetricsHandler (or client.Options). Tags the
// SDK adds (namespace, activity_type, ...) are recorded too; queries match on
// the tags they name and ignore the others.
type Recorder struct {
	mu       *sync.Mutex
	tags     map[string]string
	counters map[string][]sample[int64] // by metric name
	timers   map[string][]sample[time.Duration]
	gauges   map[string][]sample[float64]
}

type sample[T any] struct {
	tags  map[string]string
	value T
}

var _ client.MetricsHandler = (*Recorder)(nil)

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{
		mu:       &sync.Mutex{},
		counters: map[string][]sample[int64]{},
		timers:   map[string][]sample[time.Duration]{},
		gauges:   map[string][]sample[float64]{},
	}
}

// WithTags returns a handler sharing r's records whose values carry tags too.
func (r *Recorder) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(r.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	c := *r
	c.tags = merged
	return &c
}

// Counter implements client.MetricsHandler.
func (r *Recorder) Counter(name string) client.MetricsCounter {
	return counterFunc(func(v int64) { record(r, r.counters, name, v) })
}

// Timer implements client.MetricsHandler.
func (r *Recorder) Timer(name string) client.MetricsTimer {
	return timerFunc(func(v time.Duration) { record(r, r.timers, name, v) })
}

// Gauge implements client.MetricsHandler.
func (r *Recorder) Gauge(name string) client.MetricsGauge {
	return gaugeFunc(func(v float64) { record(r, r.gauges, name, v) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(v int64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(v time.Duration) { f(v) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

func record[T any](r *Recorder, into map[string][]sample[T], name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	into[name] = append(into[name], sample[T]{tags: maps.Clone(r.tags), value: v})
}

// Tags builds a tag filter from key, value pairs: Tags("outcome", "ok").
func Tags(kv ...string) map[string]string {
	if len(kv)%2 != 0 {
		panic("metricstest.Tags needs key, value pairs")
	}
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// Count sums the counter name over the values whose tags include want.
func (r *Recorder) Count(name string, want map[string]string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, s := range r.counters[name] {
		if matches(s.tags, want) {
			n += s.value
		}
	}
	return n
}

// Durations returns the timer name's values whose tags include want.
func (r *Recorder) Durations(name string, want map[string]string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, s := range r.timers[name] {
		if matches(s.tags, want) {
			out = append(out, s.value)
		}
	}
	return out
}

// GaugeValue returns the gauge name's last value whose tags include want, and whether there is one.
func (r *Recorder) GaugeValue(name string, want map[string]string) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.gauges[name]) - 1; i >= 0; i-- {
		if s := r.gauges[name][i]; matches(s.tags, want) {
			return s.value, true
		}
	}
	return 0, false
}

// Names lists the metric names recorded with the given prefix, sorted.
func (r *Recorder) Names(prefix string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range []map[string]bool{keys(r.counters), keys(r.timers), keys(r.gauges)} {
		for k := range m {
			if strings.HasPrefix(k, prefix) && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

func keys[T any](m map[string][]sample[T]) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func matches(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
