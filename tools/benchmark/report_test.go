package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	// 1..100 ms, shuffled: the nearest rank of p is exactly p ms.
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration((i*37)%100+1)*time.Millisecond)
	}
	for _, p := range []float64{1, 50, 95, 99, 100} {
		got, ok := percentile(ds, p)
		require.True(t, ok)
		assert.Equal(t, time.Duration(p)*time.Millisecond, got, "p%v", p)
	}
	// Few samples: p95 of 3 values is the largest, p50 the middle one; input order kept.
	in := ms(30, 10, 20)
	got, _ := percentile(in, 95)
	assert.Equal(t, 30*time.Millisecond, got)
	got, _ = percentile(in, 50)
	assert.Equal(t, 20*time.Millisecond, got)
	assert.Equal(t, ms(30, 10, 20), in, "percentile must not reorder its input")
	got, _ = percentile(ms(7), 99)
	assert.Equal(t, 7*time.Millisecond, got)

	for _, p := range []float64{0, -1, 101} {
		_, ok := percentile(in, p)
		assert.False(t, ok, "p=%v", p)
	}
	_, ok := percentile(nil, 50)
	assert.False(t, ok)
}

func TestLatencyRow(t *testing.T) {
	assert.Equal(t, "20ms / 30ms / 30ms (n=3)", latencyRow(ms(30, 10, 20)))
	assert.Equal(t, "1.23s / 12.3s / 12.3s (n=2)", latencyRow([]time.Duration{1234 * time.Millisecond, 12345 * time.Millisecond}))
	assert.Contains(t, latencyRow(nil), "no samples")
}

func TestThroughputAndRatio(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got, ok := throughput(500, t0, t0.Add(20*time.Second))
	require.True(t, ok)
	assert.InDelta(t, 25.0, got, 1e-9)
	_, ok = throughput(500, t0, t0)
	assert.False(t, ok, "an empty window has no rate")
	_, ok = throughput(0, t0, t0.Add(time.Second))
	assert.False(t, ok)

	r, ok := ratio(17, 20)
	require.True(t, ok)
	assert.InDelta(t, 0.85, r, 1e-9)
	_, ok = ratio(17, 0)
	assert.False(t, ok, "no floor, no ratio")
}

func TestTable(t *testing.T) {
	got, err := table([]string{"metric", "value"}, [][]string{{"a|b", "1"}, {"c", "2"}})
	require.NoError(t, err)
	assert.Equal(t, "| metric | value |\n| --- | --- |\n| a\\|b | 1 |\n| c | 2 |\n", got)
	_, err = table([]string{"metric", "value"}, [][]string{{"only one"}})
	assert.ErrorContains(t, err, "row 0 has 1 cells")
}

func TestTargetStatus(t *testing.T) {
	assert.Equal(t, "met", target{Met: boolp(true)}.status())
	assert.Equal(t, "MISSED", target{Met: boolp(false)}.status())
	assert.Equal(t, "not measured", target{}.status())
}

func TestInsertInSection(t *testing.T) {
	entry := "### Run 2\n\nfigures\n"

	// Empty or missing file: a title and the section.
	assert.Equal(t, "# Benchmarks\n\n## Benchmark\n\n"+entry, insertInSection("", sectionHeading, entry))

	// Another engineer's sections only: ours is appended at the end, theirs untouched.
	other := "# Benchmarks\n\n## Chaos\n\nchaos figures\n"
	got := insertInSection(other, sectionHeading, entry)
	assert.Equal(t, other+"\n"+sectionHeading+"\n\n"+entry, got)

	// Our section sits before theirs: the new run goes at the end of ours, before ## Soak,
	// and subsections (###) of ours do not end it.
	doc := "# Benchmarks\n\n## Benchmark\n\n### Run 1\n\nold\n\n## Soak\n\nsoak figures\n"
	got = insertInSection(doc, sectionHeading, entry)
	assert.Equal(t, "# Benchmarks\n\n## Benchmark\n\n### Run 1\n\nold\n\n"+entry+"\n## Soak\n\nsoak figures\n", got)
	assert.Less(t, strings.Index(got, "Run 1"), strings.Index(got, "Run 2"))

	// A "## Soak" inside a code block is not a heading; "## Benchmarks" is not our heading.
	doc = "## Benchmarks ideas\n\n## Benchmark\n\n```\n## Soak\n```\n"
	got = insertInSection(doc, sectionHeading, entry)
	assert.True(t, strings.HasSuffix(got, "```\n## Soak\n```\n\n"+entry), got)
	assert.Equal(t, 1, strings.Count(got, "\n## Benchmark\n"))
}

func TestDiffCountsAndMode(t *testing.T) {
	got := diffCounts(map[string]int{"GET /threats": 12, "GET /agents": 3, "POST /threats/notes": 4}, map[string]int{"GET /threats": 2, "GET /agents": 3})
	assert.Equal(t, map[string]int{"GET /threats": 10, "POST /threats/notes": 4}, got, "unchanged endpoints are dropped")

	assert.Equal(t, 16, mode(map[int]int{16: 990, 18: 10}))
	assert.Equal(t, 15, mode(map[int]int{16: 5, 15: 5}), "a tie goes to the smaller count")
	assert.Equal(t, 0, mode(nil))
}

func TestProcMemory(t *testing.T) {
	status := "Name:\tworker\nVmPeak:\t 2000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t12\n"
	rss, hwm, err := procMemory(strings.NewReader(status))
	require.NoError(t, err)
	assert.Equal(t, int64(100<<20), rss)
	assert.Equal(t, int64(200<<20), hwm)

	_, _, err = procMemory(strings.NewReader("Name:\tworker\nVmRSS:\t 1 kB\n"))
	assert.ErrorContains(t, err, "missing")
	_, _, err = procMemory(strings.NewReader("VmRSS:\t 1 MB\nVmHWM:\t 1 kB\n"))
	assert.ErrorContains(t, err, "unexpected VmRSS")
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-n", "200", "-model-delays", "0ms, 800ms"})
	require.NoError(t, err)
	assert.Equal(t, 200, o.n)
	assert.Equal(t, []time.Duration{0, 800 * time.Millisecond}, o.modelDelays)
	assert.Equal(t, 1000, o.outbreak)

	_, err = parseFlags([]string{"-model-delays", "fast"})
	assert.ErrorContains(t, err, `"fast" is not a non-negative duration`)
	_, err = parseFlags([]string{"-rss-waiting", "100"})
	assert.ErrorContains(t, err, "needs -worker-bin")
	_, err = parseFlags([]string{"-outbreak", "20000", "-n", "-1"})
	assert.ErrorContains(t, err, "at most 10000")
	assert.ErrorContains(t, err, "must not be negative")
}

func TestRenderReportsTargetsAndBounds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := results{
		Command: "go run ./benchmark -n 10", Opts: options{pollInterval: 2 * time.Second},
		Auto: []autoResult{{
			ModelDelay: 0, Timing: phaseTiming{N: 10, Completed: 10, First: t0, Last: t0.Add(5 * time.Second)},
			Outcomes: map[string]int{"mitigated": 10}, Started: ms(500, 900, 4000),
			Requests:        map[string]int{"GET /threats": 50, "POST /threats/notes": 20},
			Activities:      map[int]int{16: 10},
			S1Activities:    map[int]int{8: 10},
			FloorActivities: 16,
			Floor:           &phaseTiming{N: 10, Completed: 10, First: t0, Last: t0.Add(4 * time.Second)},
		}, {
			// A slower run compared with its own, faster floor.
			ModelDelay: 800 * time.Millisecond, Timing: phaseTiming{N: 10, Completed: 10, First: t0, Last: t0.Add(10 * time.Second)},
			Outcomes: map[string]int{"mitigated": 10}, FloorActivities: 16,
			Floor: &phaseTiming{N: 10, Completed: 10, First: t0, Last: t0.Add(2 * time.Second)},
		}},
		Outbreak: &outbreakResult{N: 10, ModelCalls: 4, Completed: 10},
	}
	got, err := r.render(t0)
	require.NoError(t, err)
	// 2/s against 2.5/s: 0.80 of the floor, below 0.85.
	assert.Contains(t, got, "| auto path, model 0s | 10/10 | 5s | 2.00 | 0.80 | mitigated 10 |")
	assert.Contains(t, got, "| its engine floor: no-op workflow, 16 activities | 10/10 | 4s | 2.50 | 1.00 |  |")
	assert.Contains(t, got, "| throughput ≥ 0.85 × engine floor (model 0s) | 0.80 × | MISSED |")
	// 1/s against its own floor of 5/s.
	assert.Contains(t, got, "| auto path, model 800ms | 10/10 | 10s | 1.00 | 0.20 | mitigated 10 |")
	assert.Contains(t, got, "| throughput ≥ 0.85 × engine floor (model 800ms) | 0.20 × | MISSED |")
	assert.Contains(t, got, "| ≤ 8 S1 requests per auto-path investigation | 7.00 | met |")
	assert.Contains(t, got, "| workflow started ≤ poll interval + 1 s (3s) at p95 (model 0s) | 4s | MISSED |")
	assert.Contains(t, got, "| outbreak ≤ 3 model calls | 4 | MISSED |")
	assert.Contains(t, got, "| worker RSS ≤ 250 MB at 10,000 waiting (make bench-rss) | — | not measured |")
	// 8 S1 activities at the default 100/s: 12.5 investigations per second; 5 GET /threats at 10 rps: 2/s.
	assert.Contains(t, got, "at the default 100 activities/s fleet-wide allow at most 12.50 investigations/s")
	assert.Contains(t, got, "5.00 per investigation allow at most 2.00 investigations/s")
}

// The containment before/after: per-investigation requests from the counts, the
// targets judged on the coalesced run, and the quiet hour against the window.
func TestRenderContainment(t *testing.T) {
	r := results{Containment: []containmentResult{
		{N: 4, Window: 0, Completed: 4, Outcomes: map[string]int{"mitigated": 4}, VisibleToLastVerified: 9 * time.Minute,
			Requests: map[string]int{"GET /threats": 20, "POST /threats/notes": 8}, ModelCalls: 1, MaxBatch: 1},
		{N: 4, Window: 25 * time.Millisecond, Completed: 4, Outcomes: map[string]int{"mitigated": 4}, VisibleToLastVerified: 90 * time.Second,
			Requests: map[string]int{"GET /threats": 2, "POST /threats/notes": 8, "GET /threats/{id}/timeline": 4}, Violations: map[string]int{"/agents": 1},
			ModelCalls: 1, MaxBatch: 4},
	}, Quiet: []quietResult{
		{Window: 0, Triage: []time.Duration{4 * time.Second}, Verified: []time.Duration{5 * time.Second},
			TriageFromStart: []time.Duration{2 * time.Second}, VerifiedFromStart: []time.Duration{3 * time.Second}},
		{Window: 25 * time.Millisecond, Triage: []time.Duration{3 * time.Second}, Verified: []time.Duration{4 * time.Second},
			TriageFromStart: []time.Duration{2010 * time.Millisecond}, VerifiedFromStart: []time.Duration{3100 * time.Millisecond}},
	}}
	got, err := r.render(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Contains(t, got, "SentinelOne rate limits the product's (client buckets at the documented limits", "a containment-only run says its limits")
	assert.NotContains(t, got, "lifted")
	assert.Contains(t, got, "| before: coalescing off (window 0) | 4/4 | 9m0s |")
	assert.Contains(t, got, "| 7.00 | 0 | 1 | 1 | mitigated 4 |", "28 requests for 4 investigations")
	assert.Contains(t, got, "| 3.50 | 1 | 1 | 4 | mitigated 4 |")
	assert.Contains(t, got, "| outbreak contained and verified ≤ 2 min (4 threats, window 25ms) | 1m30s | met |")
	assert.Contains(t, got, "| ≤ 3 S1 requests per investigation (4 threats, window 25ms) | 3.50 | MISSED |")
	assert.Contains(t, got, "| 0 rate-limit violations (4 threats, window 25ms) | 1 | MISSED |")
	assert.Contains(t, got, "started → triage note (median) not worse by more than the window (25ms) | 2s → 2.01s | met |",
		"judged from the start, without the poll's phase")
	assert.Contains(t, got, "started → verified (median) not worse by more than the window (25ms) | 3s → 3.1s | MISSED |")
}
