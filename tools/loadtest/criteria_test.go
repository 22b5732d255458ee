package main

import (
	"strings"
	"testing"
	"time"
)

// goodEvidence is a run where every criterion holds: one threat of each kind.
func goodEvidence() Evidence {
	var ts []ThreatResult
	for i, k := range Kinds {
		e := Expectations[k]
		ts = append(ts, ThreatResult{ID: string(rune('a' + i)), Kind: k, Expect: e,
			Got: Observed{Runs: 1, Status: "Completed", Outcome: e.Outcome, Verdict: e.Verdict, Decision: e.Decision, Notes: 2}})
	}
	return Evidence{
		Threats:               ts,
		Mitigations:           map[string]map[string]int{"a": {"kill": 1, "quarantine": 1}},
		AgentActions:          map[string]map[string]int{"agent-d": {"disconnect": 1}},
		RateLimitViolations:   map[string]int{},
		NotesPerInvestigation: 2,
		Drain:                 3 * time.Second,
		Elapsed:               time.Minute,
	}
}

func TestEvaluatePassesAGoodRun(t *testing.T) {
	rep := Evaluate(goodEvidence())
	if !rep.Passed() {
		t.Fatalf("failures on a good run: %v", rep.Failures)
	}
	var b strings.Builder
	rep.Print(&b, "title")
	for _, want := range []string{"| threats ", "4 (auto 1, approve 1, reject 1, rollback 1)", "| drain after the last kill ", "3s", "PASS"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

func TestEvaluateNamesEachFailedCriterion(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Evidence)
		want   string
	}{
		{"missing investigation", func(e *Evidence) { e.Threats[0].Got = Observed{} }, "threats without an investigation: 1 (a)"},
		{"two runs", func(e *Evidence) { e.Threats[1].Got.Runs = 2 }, "threats with more than one investigation: 1 (b: 2 runs)"},
		{"stuck", func(e *Evidence) { e.Threats[2].Got.Status = "Running" }, "investigations stuck (still running at the deadline): 1 (c)"},
		{"failed", func(e *Evidence) { e.Threats[2].Got.Status = "Failed" }, "investigations that did not complete: 1 (c: Failed)"},
		{"wrong outcome", func(e *Evidence) { e.Threats[3].Got.Outcome = "mitigated" }, `investigations with an unexpected outcome: 1 (d (rollback): "mitigated", expected "partially_mitigated")`},
		{"wrong verdict", func(e *Evidence) { e.Threats[0].Got.Verdict = "suspicious" }, "investigations with an unexpected verdict: 1"},
		{"auto path waited", func(e *Evidence) { e.Threats[0].Got.Decision = "approve" }, `investigations that waited (or not) against expectation: 1 (a (auto): decision "approve", expected no approval)`},
		{"approval never asked", func(e *Evidence) { e.Threats[1].Got.Decision = "" }, "expected an approval"},
		{"duplicate mitigation", func(e *Evidence) { e.Mitigations["a"]["kill"] = 2 }, "duplicate mitigations: 1 (a kill ×2)"},
		{"duplicate isolation", func(e *Evidence) { e.AgentActions["agent-d"]["disconnect"] = 3 }, "duplicate isolations: 1 (agent agent-d ×3)"},
		{"duplicate note", func(e *Evidence) { e.Threats[0].Got.Notes = 3 }, "duplicate notes: 1 (a: 3 notes)"},
		{"missing note", func(e *Evidence) { e.Threats[0].Got.Notes = 1 }, "missing notes: 1 (a: 1 notes)"},
		{"rate limit", func(e *Evidence) { e.RateLimitViolations["agents"] = 8 }, "SentinelOne rate-limit violations: 1 (agents ×8)"},
		{"stray investigation", func(e *Evidence) { e.Unexpected = []string{"s1-threat/9"} }, "investigations for threats the harness never made: 1 (s1-threat/9)"},
		{"harness error", func(e *Evidence) { e.HarnessErrors = []string{"worker-1 exited on its own"} }, "harness errors: 1 (worker-1 exited on its own)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := goodEvidence()
			tc.mutate(&e)
			rep := Evaluate(e)
			if rep.Passed() {
				t.Fatal("passed")
			}
			if len(rep.Failures) != 1 || !strings.Contains(rep.Failures[0], tc.want) {
				t.Fatalf("failures %q, want exactly one containing %q", rep.Failures, tc.want)
			}
		})
	}
}

func TestEvaluateSoakCriteriaOnlyWhenAsked(t *testing.T) {
	e := goodEvidence()
	e.FallbackNotSaid = []string{"a"}
	e.SecretLeaks = []string{"secret #1 in worker-1.log"}
	if rep := Evaluate(e); !rep.Passed() {
		t.Fatalf("chaos evidence judged on soak criteria: %v", rep.Failures)
	}
	e.CheckFallbacks, e.CheckSecrets = true, true
	e.ModelCalls, e.ModelCallsBadKey = 0, 2
	rep := Evaluate(e)
	joined := strings.Join(rep.Failures, "\n")
	for _, want := range []string{"fell back without saying so: 1 (a)", "secrets found in logs or workflow histories: 1", "never called", "without the configured API key: 2"} {
		if !strings.Contains(joined, want) {
			t.Errorf("failures lack %q:\n%s", want, joined)
		}
	}
}

func TestEvaluateBoundsTheListedExamples(t *testing.T) {
	e := goodEvidence()
	for i := range 8 {
		e.Threats = append(e.Threats, ThreatResult{ID: string(rune('m' + i)), Kind: KindAuto, Expect: Expectations[KindAuto]})
	}
	rep := Evaluate(e)
	if len(rep.Failures) != 1 || !strings.Contains(rep.Failures[0], ": 8 (") || !strings.Contains(rep.Failures[0], "… and 3 more") {
		t.Fatalf("failures %q", rep.Failures)
	}
}
