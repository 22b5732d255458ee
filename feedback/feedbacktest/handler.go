// Package feedbacktest captures the SDK metrics a test emits, to check the analyst
// feedback counter.
package feedbacktest

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Handler is a client.MetricsHandler that sums counters by name and tags.
type Handler struct {
	tags map[string]string
	c    *counts
}

type counts struct {
	mu sync.Mutex
	m  map[string]int64
}

// New returns an empty Handler.
func New() *Handler { return &Handler{c: &counts{m: map[string]int64{}}} }

// WithTags implements client.MetricsHandler.
func (h *Handler) WithTags(tags map[string]string) client.MetricsHandler {
	t := maps.Clone(h.tags)
	if t == nil {
		t = map[string]string{}
	}
	maps.Copy(t, tags)
	return &Handler{tags: t, c: h.c}
}

// Counter implements client.MetricsHandler.
func (h *Handler) Counter(name string) client.MetricsCounter {
	k := Key(name, h.tags)
	return counterFunc(func(d int64) {
		h.c.mu.Lock()
		defer h.c.mu.Unlock()
		h.c.m[k] += d
	})
}

// Gauge implements client.MetricsHandler (ignored).
func (h *Handler) Gauge(string) client.MetricsGauge { return gaugeFunc(func(float64) {}) }

// Timer implements client.MetricsHandler (ignored).
func (h *Handler) Timer(string) client.MetricsTimer {
	return timerFunc(func(time.Duration) {})
}

// Count is the sum of the counter name with exactly these tags among those given (other
// tags are ignored).
func (h *Handler) Count(name string, tags map[string]string) int64 {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	var n int64
	for k, v := range h.c.m {
		kname, ktags, _ := strings.Cut(k, "|")
		if kname != name {
			continue
		}
		ok := true
		for tk, tv := range tags {
			if !strings.Contains("|"+ktags+"|", "|"+tk+"="+tv+"|") {
				ok = false
			}
		}
		if ok {
			n += v
		}
	}
	return n
}

// Key renders a counter name and tags.
func Key(name string, tags map[string]string) string {
	parts := []string{name}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, "|")
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
