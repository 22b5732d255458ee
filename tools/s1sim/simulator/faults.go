package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults describes transport-level failures injected into Management API
// requests (/web/api/v2.1 only, never /sim). Rates are fractions 0–1 of
// routed, authorised API requests. The zero value injects nothing.
type Faults struct {
	// ServerErrorRate answers this fraction with 500, 502 or 503 and an
	// errors envelope (code 5000010/5020010/5030010, simulator-chosen).
	ServerErrorRate float64 `json:"serverErrorRate,omitempty"`
	// Every RateLimitBurstEvery-th request starts a burst of
	// RateLimitBurstLength requests answered 429; bursts alternate between
	// carrying "Retry-After: 1" and carrying no Retry-After.
	RateLimitBurstEvery  int `json:"rateLimitBurstEvery,omitempty"`
	RateLimitBurstLength int `json:"rateLimitBurstLength,omitempty"`
	// LatencySpikeRate delays this fraction by LatencySpike. This sleeps in
	// real time (the simulator clock does not move), so keep it off in
	// fast tests.
	LatencySpikeRate float64       `json:"latencySpikeRate,omitempty"`
	LatencySpike     time.Duration `json:"latencySpike,omitempty"`
	// InvalidJSONRate answers this fraction with the real status (2xx) and a
	// truncated body.
	InvalidJSONRate float64 `json:"invalidJsonRate,omitempty"`
	// Seed makes the random choices reproducible; runs with equal Seed and
	// request order inject the same faults (0 is a valid fixed seed).
	Seed uint64 `json:"seed,omitempty"`
}

// MarshalJSON renders LatencySpike as a Go duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	type plain Faults
	return json.Marshal(struct {
		plain
		LatencySpike string `json:"latencySpike,omitempty"`
	}{plain: plain(f), LatencySpike: durString(f.LatencySpike)})
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// UnmarshalJSON accepts latencySpike as a Go duration string ("1500ms") or
// as nanoseconds; unknown fields are rejected.
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	var aux struct {
		plain
		LatencySpike json.RawMessage `json:"latencySpike,omitempty"`
	}
	if err := decodeStrict(bytes.NewReader(b), &aux); err != nil {
		return err
	}
	*f = Faults(aux.plain)
	if raw := bytes.TrimSpace(aux.LatencySpike); len(raw) > 0 && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("latencySpike: %w", err)
			}
			f.LatencySpike = d
		} else if err := json.Unmarshal(raw, &f.LatencySpike); err != nil {
			return fmt.Errorf("latencySpike: %w", err)
		}
	}
	return nil
}

// FaultProfiles are named fault settings for the -faults flag.
var FaultProfiles = map[string]Faults{
	"none": {},
	// flaky: an ordinary bad day — occasional 5xx, short 429 bursts, a rare
	// truncated body.
	"flaky": {ServerErrorRate: 0.05, RateLimitBurstEvery: 50, RateLimitBurstLength: 3, InvalidJSONRate: 0.01},
	// throttled: frequent 429 bursts only.
	"throttled": {RateLimitBurstEvery: 10, RateLimitBurstLength: 4},
	// chaos: everything, often, including real-time latency spikes.
	"chaos": {ServerErrorRate: 0.2, RateLimitBurstEvery: 15, RateLimitBurstLength: 5, InvalidJSONRate: 0.05,
		LatencySpikeRate: 0.05, LatencySpike: 1500 * time.Millisecond},
}

// ParseFaults accepts a profile name from FaultProfiles or a JSON object
// (e.g. {"serverErrorRate":0.1,"latencySpike":"2s","seed":7}).
func ParseFaults(s string) (Faults, error) {
	s = strings.TrimSpace(s)
	if f, ok := FaultProfiles[s]; ok {
		return f, nil
	}
	if !strings.HasPrefix(s, "{") {
		return Faults{}, fmt.Errorf("faults: %q is neither a profile (%s) nor a JSON object", s, strings.Join(slices.Sorted(maps.Keys(FaultProfiles)), ", "))
	}
	var f Faults
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return Faults{}, fmt.Errorf("faults: %w", err)
	}
	if err := f.validate(); err != nil {
		return Faults{}, err
	}
	return f, nil
}

func (f Faults) validate() error {
	var errs []error
	for name, r := range map[string]float64{"serverErrorRate": f.ServerErrorRate, "latencySpikeRate": f.LatencySpikeRate, "invalidJsonRate": f.InvalidJSONRate} {
		if r < 0 || r > 1 || math.IsNaN(r) {
			errs = append(errs, fmt.Errorf("faults.%s: must be within 0 and 1", name))
		}
	}
	if f.RateLimitBurstEvery < 0 || f.RateLimitBurstLength < 0 || f.LatencySpike < 0 {
		errs = append(errs, errors.New("faults: counts and durations must not be negative"))
	}
	if f.RateLimitBurstEvery > 0 && f.RateLimitBurstLength >= f.RateLimitBurstEvery {
		errs = append(errs, errors.New("faults.rateLimitBurstLength: must be less than rateLimitBurstEvery"))
	}
	if f.RateLimitBurstLength > 0 && f.RateLimitBurstEvery == 0 {
		errs = append(errs, errors.New("faults.rateLimitBurstEvery: required with rateLimitBurstLength"))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// faultInjector decides, per request, which fault (if any) to inject.
type faultInjector struct {
	f   Faults
	mu  sync.Mutex
	rng *rand.Rand
	n   int // API requests seen
}

func newFaultInjector(f Faults) *faultInjector {
	return &faultInjector{f: f, rng: rand.New(rand.NewPCG(f.Seed, 0x5157_5349_4d00_0001))}
}

type faultKind int

const (
	noFault faultKind = iota
	faultRateLimit
	faultServerError
	faultInvalidJSON
)

type faultDecision struct {
	kind       faultKind
	status     int  // for server errors
	retryAfter bool // for 429 bursts
	latency    time.Duration
}

func (fi *faultInjector) decide() faultDecision {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	f := fi.f
	fi.n++
	var d faultDecision
	if f.LatencySpikeRate > 0 && fi.rng.Float64() < f.LatencySpikeRate {
		d.latency = f.LatencySpike
	}
	if every := f.RateLimitBurstEvery; every > 0 && fi.n >= every && (fi.n-every)%every < f.RateLimitBurstLength {
		d.kind, d.retryAfter = faultRateLimit, ((fi.n-every)/every)%2 == 0
		return d
	}
	if f.ServerErrorRate > 0 && fi.rng.Float64() < f.ServerErrorRate {
		d.kind, d.status = faultServerError, []int{500, 502, 503}[fi.rng.IntN(3)]
		return d
	}
	if f.InvalidJSONRate > 0 && fi.rng.Float64() < f.InvalidJSONRate {
		d.kind = faultInvalidJSON
	}
	return d
}

func (fi *faultInjector) active() bool { return fi.f != Faults{} }

// Server error titles; codes follow the "<status>0010" pattern (simulator-chosen).
var serverErrorTitles = map[int]string{500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}

func writeServerError(w http.ResponseWriter, status int) {
	writeErrors(w, status, detailed(status*10000+10, serverErrorTitles[status], "injected fault (s1sim)"))
}

// --- rate limits -------------------------------------------------------------

// Limit is a token bucket: RPS tokens per second, at most Burst stored.
type Limit struct {
	RPS   float64 `json:"rps"`
	Burst int     `json:"burst"`
}

// Rate-limit classes (reference §1.4, GOBP table; paths under /web/api/v2.1).
const (
	ClassThreats       = "threats"         // GET /threats
	ClassThreatsSub    = "threats/*"       // /threats/… sub-paths
	ClassAgents        = "agents"          // /agents and /agents/…
	ClassActivities    = "activities"      // /activities
	ClassDVInitQuery   = "dv/init-query"   // always enforced
	ClassDVQueryStatus = "dv/query-status" // 1 rps per token
	ClassRemoteScripts = "remote-scripts"  // /remote-scripts and /remote-scripts/…
)

// DefaultRateLimits returns the GOBP table for the endpoints the simulator
// serves. /dv/events and /dv/cancel-query have no documented limit.
func DefaultRateLimits() map[string]Limit {
	return map[string]Limit{
		ClassThreats:       {RPS: 10, Burst: 50},
		ClassThreatsSub:    {RPS: 100, Burst: 1000},
		ClassAgents:        {RPS: 25, Burst: 1}, // burst 1: back-to-back calls must be ≥40 ms apart
		ClassActivities:    {RPS: 10, Burst: 30},
		ClassDVInitQuery:   {RPS: 1.0 / 60, Burst: 1},
		ClassDVQueryStatus: {RPS: 1, Burst: 1},
		ClassRemoteScripts: {RPS: 1, Burst: 30},
	}
}

func mergeLimits(over map[string]Limit) (map[string]Limit, error) {
	out := DefaultRateLimits()
	for k, l := range over {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("rate limits: unknown class %q (known: %s)", k, strings.Join(slices.Sorted(maps.Keys(out)), ", "))
		}
		if !(l.RPS > 0) || l.Burst < 1 {
			return nil, fmt.Errorf("rate limits: class %q needs rps > 0 and burst ≥ 1", k)
		}
		out[k] = l
	}
	return out, nil
}

// rateClass maps an API path to its class ("" = unlimited).
func rateClass(method, path string) string {
	p := strings.TrimPrefix(path, APIPrefix)
	switch {
	case p == "/threats" && method == "GET":
		return ClassThreats
	case strings.HasPrefix(p, "/threats/"):
		return ClassThreatsSub
	case p == "/agents" || strings.HasPrefix(p, "/agents/"):
		return ClassAgents
	case p == "/activities":
		return ClassActivities
	case p == "/dv/init-query":
		return ClassDVInitQuery
	case p == "/dv/query-status":
		return ClassDVQueryStatus
	case p == "/remote-scripts" || strings.HasPrefix(p, "/remote-scripts/"):
		return ClassRemoteScripts
	}
	return ""
}

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter holds per-token, per-class buckets on the simulator clock.
type limiter struct {
	limits  map[string]Limit
	enforce bool
	buckets map[string]*bucket // token + "\x00" + class
}

func newLimiter(limits map[string]Limit, enforce bool) *limiter {
	return &limiter{limits: limits, enforce: enforce, buckets: map[string]*bucket{}}
}

// take consumes a token; when none is left it returns the whole seconds
// until one is. Callers hold the simulator mutex.
func (l *limiter) take(token, class string, now time.Time) (ok bool, retryAfter int) {
	if class == "" || (!l.enforce && class != ClassDVInitQuery) {
		return true, 0
	}
	lim := l.limits[class]
	key := token + "\x00" + class
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(lim.Burst), last: now}
		l.buckets[key] = b
	}
	if now.After(b.last) {
		b.tokens = math.Min(float64(lim.Burst), b.tokens+now.Sub(b.last).Seconds()*lim.RPS)
		b.last = now
	}
	// A tiny epsilon absorbs float error at exact refill boundaries.
	if b.tokens >= 1-1e-9 {
		b.tokens--
		return true, 0
	}
	return false, max(1, int(math.Ceil((1-b.tokens)/lim.RPS)))
}

// Code of a rate-limited answer: simulator-chosen, following the
// "<status>0010" pattern; no real 429 body has been published.
const codeTooManyRequests = 4290010

func writeTooMany(w http.ResponseWriter, retryAfter int, detail string) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	writeErrors(w, http.StatusTooManyRequests, detailed(codeTooManyRequests, "Too Many Requests", "%s", detail))
}

// guard applies rate limits and faults around a routed, authorised API
// request; handle runs the endpoint (possibly into a discarded recorder).
func (s *Simulator) guard(w http.ResponseWriter, r *http.Request, handle func(http.ResponseWriter)) {
	class := rateClass(r.Method, r.URL.Path)
	_, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	s.mu.Lock()
	ok, retry := s.limiter.take(strings.TrimSpace(tok), class, s.clock())
	if !ok {
		s.counters.RateLimitViolations[class]++
	}
	s.mu.Unlock()
	if !ok {
		writeTooMany(w, retry, "rate limit of "+class+" exceeded")
		return
	}
	if !s.faults.active() {
		handle(w)
		return
	}
	d := s.faults.decide()
	count := func(kind string) {
		s.mu.Lock()
		s.counters.InjectedFaults[kind]++
		s.mu.Unlock()
	}
	if d.latency > 0 {
		count("latency")
		time.Sleep(d.latency)
	}
	mutating := r.Method != http.MethodGet && r.Method != http.MethodHead
	switch d.kind {
	case faultRateLimit:
		// A rate limiter rejects before the application: never applied.
		count("rate_limit")
		ra := 0
		if d.retryAfter {
			ra = 1
		}
		writeTooMany(w, ra, "injected rate-limit burst (s1sim)")
	case faultServerError:
		count("server_error")
		if s.opts.FaultsAfterSideEffects {
			handle(httptest.NewRecorder()) // applied; the response is lost
		}
		writeServerError(w, d.status)
	case faultInvalidJSON:
		if mutating && !s.opts.FaultsAfterSideEffects {
			// A garbled answer to an applied action is a side effect plus an
			// error; only allowed when FaultsAfterSideEffects is set.
			handle(w)
			return
		}
		rec := httptest.NewRecorder()
		handle(rec)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := rec.Body.Bytes()
		if rec.Code < 300 {
			count("invalid_json")
			body = body[:len(body)/2]
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	default:
		handle(w)
	}
}
