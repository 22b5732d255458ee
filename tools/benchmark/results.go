package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/s1client"
)

// results is everything one run measured.
type results struct {
	Machine  machine
	Command  string
	Opts     options
	Auto     []autoResult
	Outbreak *outbreakResult
	RSS      *rssResult
	// Containment and Quiet are issue 16's before/after runs at SentinelOne's real limits.
	Containment []containmentResult
	Quiet       []quietResult
}

// Targets of issue 6 (reported, never asserted).
const (
	targetRatio         = 0.85
	targetS1Requests    = 8.0
	targetOutbreakCalls = 3
	targetRSSBytes      = 250 << 20
	targetStartSlack    = time.Second
	dvInitQueryEndpoint = "POST /dv/init-query"
	threatsListEndpoint = "GET /threats"
)

func (r results) render(now time.Time) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "### Run %s\n\n", now.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Command: `%s`\n", r.Command)
	fmt.Fprintf(&b, "- Machine: %d cores (%s), %s, Temporal: %s\n", r.Machine.Cores, r.Machine.CPU, r.Machine.GoVersion, r.Machine.Temporal)
	limits := "lifted (S1 activities/s 100000, no client buckets): the figures show the engine, the S1 budget is reported as a bound below"
	if r.Opts.realLimits {
		limits = fmt.Sprintf("the product's (%.0f S1 activities/s fleet-wide, per-class client buckets)", config.Defaults().S1ActivitiesPerSecond)
	}
	switch throughput := len(r.Auto) > 0 || r.Outbreak != nil; {
	case throughput && (len(r.Containment) > 0 || len(r.Quiet) > 0):
		limits += "; the containment and quiet-hour runs at the product's limits, enforced by the simulator"
	case !throughput && (len(r.Containment) > 0 || len(r.Quiet) > 0):
		limits = fmt.Sprintf("the product's (client buckets at the documented limits, %.0f S1 activities/s), enforced by the simulator", config.Defaults().S1ActivitiesPerSecond)
	}
	fmt.Fprintf(&b, "- Settings: poll interval %s, simulator mitigation delay %s, mitigation poll %s, SentinelOne rate limits %s\n",
		r.Opts.pollInterval, r.Opts.mitigationDelay, r.Opts.mitigationPoll, limits)
	if r.Opts.note != "" {
		fmt.Fprintf(&b, "- Note: %s\n", r.Opts.note)
	}
	b.WriteString("\n")

	if len(r.Auto) > 0 {
		rows := [][]string{}
		for _, a := range r.Auto {
			rate, ok := a.Timing.rate()
			rs, ratioS := "n/a", "n/a"
			if ok {
				rs = fmt.Sprintf("%.2f", rate)
				if q, ok := ratio(rate, a.floorRate()); ok {
					ratioS = fmt.Sprintf("%.2f", q)
				}
			}
			rows = append(rows, []string{
				fmt.Sprintf("auto path, model %s", a.ModelDelay), fmt.Sprintf("%d/%d", a.Timing.Completed, a.Timing.N),
				fmtDuration(a.Timing.Last.Sub(a.Timing.First)), rs, ratioS, outcomes(a.Outcomes),
			})
			if f := a.Floor; f != nil {
				fs := "n/a"
				if fr := a.floorRate(); fr > 0 {
					fs = fmt.Sprintf("%.2f", fr)
				}
				rows = append(rows, []string{fmt.Sprintf("its engine floor: no-op workflow, %d activities", a.FloorActivities),
					fmt.Sprintf("%d/%d", f.Completed, f.N), fmtDuration(f.Last.Sub(f.First)), fs, "1.00", ""})
			}
		}
		t, err := table([]string{"Throughput", "completed", "first start → last close", "investigations/s", "× floor", "outcomes"}, rows)
		if err != nil {
			return "", err
		}
		b.WriteString(t + "\n")

		rows = nil
		for _, a := range r.Auto {
			rows = append(rows, []string{fmt.Sprintf("model %s", a.ModelDelay), latencyRow(a.Started), latencyRow(a.Triage), latencyRow(a.Verified)})
		}
		t, err = table([]string{"Latency from threat visible (p50 / p95 / p99)", "→ workflow started", "→ triage note posted", "→ mitigation verified"}, rows)
		if err != nil {
			return "", err
		}
		b.WriteString(t + "\n")

		a := r.Auto[0]
		n := float64(a.Timing.N)
		var total int
		keys := slices.SortedFunc(maps.Keys(a.Requests), func(x, y string) int {
			return cmp.Or(cmp.Compare(a.Requests[y], a.Requests[x]), cmp.Compare(x, y))
		})
		rows = nil
		for _, k := range keys {
			total += a.Requests[k]
			rows = append(rows, []string{k, fmt.Sprint(a.Requests[k]), fmt.Sprintf("%.2f", float64(a.Requests[k])/n)})
		}
		rows = append(rows, []string{"**total**", fmt.Sprint(total), fmt.Sprintf("%.2f", float64(total)/n)})
		t, err = table([]string{fmt.Sprintf("S1 requests by endpoint (auto path, model %s, poller included)", a.ModelDelay), "requests", "per investigation"}, rows)
		if err != nil {
			return "", err
		}
		b.WriteString(t + "\n")
		fmt.Fprintf(&b, "Per investigation: %d activities (%d on the S1 task queue), %.2f model calls, %d rules fallbacks in %d triage notes.\n\n",
			a.FloorActivities, mode(a.S1Activities), float64(a.ModelCalls)/n, a.RulesFallbacks, len(a.Triage))
	}

	if err := renderContainment(&b, r.Containment, r.Quiet); err != nil {
		return "", err
	}

	econ := [][]string{}
	if r.Outbreak != nil {
		o := r.Outbreak
		econ = append(econ, []string{fmt.Sprintf("outbreak: %d detections of one sha256, model %s", o.N, o.ModelDelay),
			fmt.Sprintf("%d model calls (%.4f per investigation); %d/%d investigations completed", o.ModelCalls, float64(o.ModelCalls)/float64(o.N), o.Completed, o.N)})
	}
	if r.RSS != nil {
		m := r.RSS
		econ = append(econ, []string{fmt.Sprintf("worker memory, %d investigations awaiting approval (bin/worker, approve mode, rules engine)", m.Waiting),
			fmt.Sprintf("VmRSS %.0f MB, VmHWM %.0f MB (all waiting after %s)", mb(m.VmRSS), mb(m.VmHWM), fmtDuration(m.TimeToAll))})
	}
	if len(econ) > 0 {
		t, err := table([]string{"Economy and memory", "value"}, econ)
		if err != nil {
			return "", err
		}
		b.WriteString(t + "\n")
	}

	t, err := table([]string{"Target", "this run", "status"}, r.targets())
	if err != nil {
		return "", err
	}
	b.WriteString(t)
	if bounds := r.bounds(); len(bounds) > 0 {
		b.WriteString("\nWhat bounds the figures:\n\n")
		for _, l := range bounds {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String(), nil
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

func outcomes(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// targets says where each of the targets stands.
func (r results) targets() [][]string {
	var ts []target
	for _, a := range r.Auto {
		t := target{Name: fmt.Sprintf("throughput ≥ %.2f × engine floor (model %s)", targetRatio, a.ModelDelay), Value: "n/a"}
		if rate, ok := a.Timing.rate(); ok {
			if q, ok := ratio(rate, a.floorRate()); ok {
				t.Value, t.Met = fmt.Sprintf("%.2f ×", q), boolp(q >= targetRatio)
			}
		}
		ts = append(ts, t)
	}
	if len(r.Auto) > 0 {
		a := r.Auto[0]
		var total int
		for _, v := range a.Requests {
			total += v
		}
		per := float64(total) / float64(a.Timing.N)
		ts = append(ts, target{Name: fmt.Sprintf("≤ %.0f S1 requests per auto-path investigation", targetS1Requests), Value: fmt.Sprintf("%.2f", per), Met: boolp(per <= targetS1Requests)})
		dv := a.Requests[dvInitQueryEndpoint]
		ts = append(ts, target{Name: "no DV init-query", Value: fmt.Sprint(dv), Met: boolp(dv == 0)})
		for _, a := range r.Auto {
			limit := r.Opts.pollInterval + targetStartSlack
			p95, ok := percentile(a.Started, 95)
			t := target{Name: fmt.Sprintf("workflow started ≤ poll interval + 1 s (%s) at p95 (model %s)", limit, a.ModelDelay), Value: "n/a"}
			if ok {
				t.Value, t.Met = fmtDuration(p95), boolp(p95 <= limit)
			}
			ts = append(ts, t)
		}
	}
	if o := r.Outbreak; o != nil {
		ts = append(ts, target{Name: fmt.Sprintf("outbreak ≤ %d model calls", targetOutbreakCalls), Value: fmt.Sprint(o.ModelCalls), Met: boolp(o.ModelCalls <= targetOutbreakCalls)})
	} else {
		ts = append(ts, target{Name: fmt.Sprintf("outbreak ≤ %d model calls", targetOutbreakCalls)})
	}
	ts = append(ts, r.containmentTargets()...)
	if m := r.RSS; m != nil {
		ts = append(ts, target{Name: fmt.Sprintf("worker RSS ≤ 250 MB at %d waiting", m.Waiting), Value: fmt.Sprintf("%.0f MB", mb(m.VmRSS)), Met: boolp(m.VmRSS <= targetRSSBytes)})
	} else {
		ts = append(ts, target{Name: "worker RSS ≤ 250 MB at 10,000 waiting (make bench-rss)"})
	}
	rows := make([][]string, len(ts))
	for i, t := range ts {
		v := t.Value
		if v == "" {
			v = "—"
		}
		rows[i] = []string{t.Name, v, t.status()}
	}
	return rows
}

// bounds derives, from the measured counts, the ceilings SentinelOne's documented rate
// limits put on the auto path, and the requests a missed target is made of.
func (r results) bounds() []string {
	if len(r.Auto) == 0 {
		return nil
	}
	a := r.Auto[0]
	n := float64(a.Timing.N)
	var out []string
	if k := mode(a.S1Activities); k > 0 {
		rate := config.Defaults().S1ActivitiesPerSecond
		out = append(out, fmt.Sprintf("S1 task-queue budget: %d S1 activities per investigation at the default %.0f activities/s fleet-wide allow at most %.2f investigations/s, whatever the engine does.",
			k, rate, rate/float64(k)))
	}
	if per := float64(a.Requests[threatsListEndpoint]) / n; per > 0 {
		lim := s1client.DocumentedRateLimits()[s1client.ClassThreats].RPS
		out = append(out, fmt.Sprintf("GET /threats (%.0f requests/s per token, poller included): %.2f per investigation allow at most %.2f investigations/s.", lim, per, lim/per))
	}
	return out
}
