package simulator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// raw sends a request and returns status, Retry-After and body.
func (e *env) raw(method, path, body string) (int, string, []byte, error) {
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Authorization", "ApiToken "+token)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), b, err
}

func killBody(ids ...string) string {
	b, _ := json.Marshal(obj{"filter": obj{"ids": ids}})
	return string(b)
}

func TestServerErrorsBeforeOrAfterSideEffects(t *testing.T) {
	for _, after := range []bool{false, true} {
		e := newEnvWith(t, fixture(), func(o *simulator.Options) {
			o.Faults = simulator.Faults{ServerErrorRate: 1}
			o.FaultsAfterSideEffects = after
		})
		status, _, body, err := e.raw("POST", apiURL+"/threats/mitigate/kill", killBody(tWin))
		if err != nil || status < 500 || !strings.Contains(string(body), `"errors"`) {
			t.Fatalf("after=%t: %d %s %v", after, status, body, err)
		}
		applied := e.sim.Counters().Mitigations[tWin]["kill"]
		equal(t, applied == 1, after, fmt.Sprintf("after=%t: applied", after))
		equal(t, e.sim.Counters().InjectedFaults["server_error"], 1, "counted")
		// /sim is never faulted.
		equal(t, e.json("GET", "/sim/health", nil, 200)["ok"].(bool), true, "admin unaffected")
	}
}

func TestRateLimitBurstsAlternateRetryAfter(t *testing.T) {
	e := newEnvWith(t, fixture(), func(o *simulator.Options) {
		o.Faults = simulator.Faults{RateLimitBurstEvery: 4, RateLimitBurstLength: 2}
	})
	var got []string
	for range 12 {
		status, ra, _, err := e.raw("GET", apiURL+"/threats", "")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", status, ra))
	}
	// Requests 4–5 and 8–9 and 12 are in bursts; the first burst has
	// Retry-After, the second not, the third again.
	want := "200:,200:,200:,429:1,429:1,200:,200:,429:,429:,200:,200:,429:1"
	equal(t, strings.Join(got, ","), want, "burst pattern")
	c := e.sim.Counters()
	equal(t, c.InjectedFaults["rate_limit"], 5, "injected counted")
	equal(t, len(c.RateLimitViolations), 0, "not violations")
}

func TestInvalidJSONOnlyOnReadsByDefault(t *testing.T) {
	e := newEnvWith(t, fixture(), func(o *simulator.Options) { o.Faults = simulator.Faults{InvalidJSONRate: 1} })
	status, _, body, _ := e.raw("GET", apiURL+"/threats", "")
	equal(t, status, 200, "status kept")
	if json.Valid(body) || len(body) == 0 {
		t.Fatalf("body should be truncated JSON: %q", body)
	}
	status, _, body, _ = e.raw("POST", apiURL+"/threats/mitigate/kill", killBody(tWin))
	equal(t, status, 200, "mutation")
	equal(t, json.Valid(body), true, "a mutation's answer is not garbled unless FaultsAfterSideEffects")
	equal(t, e.sim.Counters().InjectedFaults["invalid_json"], 1, "counted once")
}

func TestLatencySpikes(t *testing.T) {
	e := newEnvWith(t, fixture(), func(o *simulator.Options) {
		o.Faults = simulator.Faults{LatencySpikeRate: 1, LatencySpike: 20 * time.Millisecond}
	})
	start := time.Now()
	e.json("GET", apiURL+"/threats", nil, 200)
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("no latency injected")
	}
	equal(t, e.sim.Counters().InjectedFaults["latency"], 1, "counted")
}

func TestFaultsAreReproducibleBySeed(t *testing.T) {
	run := func(seed uint64) string {
		e := newEnvWith(t, fixture(), func(o *simulator.Options) {
			o.Faults = simulator.Faults{ServerErrorRate: 0.3, InvalidJSONRate: 0.2, Seed: seed}
		})
		var b strings.Builder
		for range 40 {
			status, _, body, _ := e.raw("GET", apiURL+"/threats?limit=1", "")
			fmt.Fprintf(&b, "%d/%t ", status, json.Valid(body))
		}
		return b.String()
	}
	equal(t, run(7), run(7), "same seed")
	if run(7) == run(8) {
		t.Fatal("different seeds gave identical faults")
	}
}

func TestParseFaults(t *testing.T) {
	for name := range simulator.FaultProfiles {
		if _, err := simulator.ParseFaults(name); err != nil {
			t.Errorf("profile %s: %v", name, err)
		}
	}
	f, err := simulator.ParseFaults(`{"serverErrorRate":0.1,"rateLimitBurstEvery":10,"rateLimitBurstLength":2,"latencySpikeRate":0.5,"latencySpike":"1500ms","invalidJsonRate":0.01,"seed":42}`)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, f, simulator.Faults{ServerErrorRate: 0.1, RateLimitBurstEvery: 10, RateLimitBurstLength: 2, LatencySpikeRate: 0.5,
		LatencySpike: 1500 * time.Millisecond, InvalidJSONRate: 0.01, Seed: 42}, "parsed")
	raw, _ := json.Marshal(f)
	if !strings.Contains(string(raw), `"latencySpike":"1.5s"`) {
		t.Fatalf("marshal: %s", raw)
	}
	for _, bad := range []string{"sometimes", `{"serverErrorRate":1.5}`, `{"rateLimitBurstEvery":3,"rateLimitBurstLength":3}`, `{"colour":1}`, `{"latencySpike":"soon"}`} {
		if _, err := simulator.ParseFaults(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if _, err := simulator.New(fixture(), simulator.Options{Token: "x", Faults: simulator.Faults{ServerErrorRate: -1}}); err == nil {
		t.Fatal("New accepted a negative rate")
	}
}

func TestRateLimitEnforcement(t *testing.T) {
	e := newEnvWith(t, fixture(), func(o *simulator.Options) { o.EnforceRateLimits = true })
	for i := range 50 {
		if status, _, _, _ := e.raw("GET", apiURL+"/threats", ""); status != 200 {
			t.Fatalf("request %d within burst: %d", i, status)
		}
	}
	status, ra, body, _ := e.raw("GET", apiURL+"/threats", "")
	equal(t, status, 429, "over the burst")
	equal(t, ra, "1", "Retry-After")
	if !strings.Contains(string(body), `"code":4290010`) || !strings.Contains(string(body), "Too Many Requests") {
		t.Fatalf("429 body %s", body)
	}
	e.clock.Advance(100 * time.Millisecond) // 10 rps: one token back
	status, _, _, _ = e.raw("GET", apiURL+"/threats", "")
	equal(t, status, 200, "refilled on the simulator clock")

	// /agents: 25 rps with burst 1 → back-to-back calls need 40 ms.
	status, _, _, _ = e.raw("GET", apiURL+"/agents", "")
	equal(t, status, 200, "first agents call")
	status, _, _, _ = e.raw("GET", apiURL+"/agents", "")
	equal(t, status, 429, "back-to-back agents call")
	e.clock.Advance(40 * time.Millisecond)
	status, _, _, _ = e.raw("GET", apiURL+"/agents", "")
	equal(t, status, 200, "40 ms later")
	// Sub-paths have their own, larger bucket.
	status, _, _, _ = e.raw("GET", apiURL+"/threats/"+tWin+"/timeline", "")
	equal(t, status, 200, "threats/* separate")

	c := e.sim.Counters()
	equal(t, c.RateLimitViolations["threats"], 1, "threats violations")
	equal(t, c.RateLimitViolations["agents"], 1, "agents violations")

	// Overrides.
	e2 := newEnvWith(t, fixture(), func(o *simulator.Options) {
		o.EnforceRateLimits = true
		o.RateLimits = map[string]simulator.Limit{simulator.ClassAgents: {RPS: 1, Burst: 3}}
	})
	var got []int
	for range 4 {
		s, _, _, _ := e2.raw("GET", apiURL+"/agents", "")
		got = append(got, s)
	}
	equal(t, fmt.Sprint(got), "[200 200 200 429]", "override burst 3")
	if _, err := simulator.New(nil, simulator.Options{Token: "x", RateLimits: map[string]simulator.Limit{"nope": {RPS: 1, Burst: 1}}}); err == nil {
		t.Fatal("unknown class accepted")
	}
	// Without enforcement nothing is limited (except DV init-query).
	e3 := newEnv(t, fixture())
	for range 60 {
		e3.json("GET", apiURL+"/agents", nil, 200)
	}
}

// A client that paces itself at the documented rate never registers a
// violation, even while injected 429 bursts and 5xx hit it; one that does
// not pace does.
func TestLimitViolationsCountOnlyRealExcess(t *testing.T) {
	e := newEnvWith(t, fixture(), func(o *simulator.Options) {
		o.EnforceRateLimits = true
		o.Faults = simulator.Faults{RateLimitBurstEvery: 5, RateLimitBurstLength: 2, ServerErrorRate: 0.2, Seed: 3}
	})
	for range 200 {
		e.clock.Advance(40 * time.Millisecond) // exactly 25 rps
		if _, _, _, err := e.raw("GET", apiURL+"/agents", ""); err != nil {
			t.Fatal(err)
		}
	}
	c := e.sim.Counters()
	if c.InjectedFaults["rate_limit"] == 0 || c.InjectedFaults["server_error"] == 0 {
		t.Fatalf("faults not injected: %v", c.InjectedFaults)
	}
	equal(t, len(c.RateLimitViolations), 0, "paced client: no violations")

	e.clock.Advance(time.Second)
	for range 3 {
		_, _, _, _ = e.raw("GET", apiURL+"/agents", "")
	}
	equal(t, e.sim.Counters().RateLimitViolations["agents"], 2, "unpaced: the 2nd and 3rd call exceed burst 1")
}

// Property: concurrent clients issuing random request sequences under
// faults never corrupt state. With faults injected before side effects, a
// mutation is applied iff its answer was 200, so the clients' own tally must
// equal the simulator's counters exactly.
func TestRandomClientsUnderFaultsKeepStateConsistent(t *testing.T) {
	e := newEnvWith(t, fixture(), func(o *simulator.Options) {
		o.Faults = simulator.Faults{ServerErrorRate: 0.2, RateLimitBurstEvery: 7, RateLimitBurstLength: 2, InvalidJSONRate: 0.1, Seed: 11}
		o.MitigationDelay = 2 * time.Second
	})
	threats := []string{tWin, tLinux, tNoVSS, tMac, tWin2}
	actions := []string{"kill", "quarantine", "remediate", "rollback-remediation", "un-quarantine"}
	type tally struct {
		mu          sync.Mutex
		mitigations map[string]int // threat/action -> applied
		notes       map[string]int
	}
	tl := &tally{mitigations: map[string]int{}, notes: map[string]int{}}
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 99))
			for range 60 {
				id := threats[rng.IntN(len(threats))]
				switch rng.IntN(5) {
				case 0:
					a := actions[rng.IntN(len(actions))]
					status, _, body, err := e.raw("POST", apiURL+"/threats/mitigate/"+a, killBody(id))
					if err != nil {
						t.Error(err)
						return
					}
					if status == 200 {
						var res struct {
							Data struct{ Affected int } `json:"data"`
						}
						if err := json.Unmarshal(body, &res); err != nil {
							t.Errorf("200 mutation with bad body: %s", body)
							return
						}
						tl.mu.Lock()
						tl.mitigations[id+"/"+a] += res.Data.Affected
						tl.mu.Unlock()
					}
				case 1:
					status, _, _, err := e.raw("POST", apiURL+"/threats/notes", `{"filter":{"ids":["`+id+`"]},"data":{"text":"x"}}`)
					if err != nil {
						t.Error(err)
						return
					}
					if status == 200 {
						tl.mu.Lock()
						tl.notes[id]++
						tl.mu.Unlock()
					}
				case 2:
					_, _, _, _ = e.raw("GET", apiURL+"/threats?limit=3", "")
				case 3:
					_, _, _, _ = e.raw("GET", apiURL+"/activities?limit=5&threatIds="+id, "")
				case 4:
					e.clock.Advance(time.Duration(rng.IntN(1500)) * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()

	c := e.sim.Counters()
	if c.InjectedFaults["server_error"] == 0 || c.InjectedFaults["rate_limit"] == 0 || c.InjectedFaults["invalid_json"] == 0 {
		t.Fatalf("not all faults exercised: %v", c.InjectedFaults)
	}
	for _, id := range threats {
		equal(t, c.Notes[id], tl.notes[id], "notes counter for "+id)
		equal(t, len(e.sim.Notes(id)), tl.notes[id], "stored notes for "+id)
		for _, a := range actions {
			equal(t, c.Mitigations[id][a], tl.mitigations[id+"/"+a], "mitigations "+id+"/"+a)
		}
	}
	// Reads are idempotent: retry until a clean answer, then check that each
	// threat has at most one entry per action and that /activities and the
	// timeline agree.
	clean := func(path string) obj {
		for range 50 {
			status, _, body, err := e.raw("GET", path, "")
			var out obj
			if err == nil && status == 200 && json.Unmarshal(body, &out) == nil {
				return out
			}
		}
		t.Fatalf("no clean answer for %s", path)
		return nil
	}
	for _, id := range threats {
		th := clean(apiURL + "/threats?ids=" + id)["data"].([]any)[0].(obj)
		seen := map[string]bool{}
		for _, m := range th["mitigationStatus"].([]any) {
			a := m.(obj)["action"].(string)
			if seen[a] {
				t.Fatalf("%s: duplicate %s entry", id, a)
			}
			seen[a] = true
		}
		tlTotal := get(clean(apiURL+"/threats/"+id+"/timeline?countOnly=true"), "pagination.totalItems")
		actTotal := get(clean(apiURL+"/activities?countOnly=true&threatIds="+id), "pagination.totalItems")
		equal(t, actTotal, tlTotal, "activities vs timeline for "+id)
	}
}
