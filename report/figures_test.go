package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/investigation"
)

var week = Window{From: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}

// at is a time on the first day of the week.
func at(hh, mm int) time.Time { return time.Date(2026, 11, 30, hh, mm, 0, 0, time.UTC) }

func rec(inv, step string, kind audit.Kind, t time.Time, mod ...func(*audit.Record)) audit.Record {
	r := audit.Record{ID: audit.RecordID(inv, step), Kind: kind, InvestigationID: inv, ThreatID: inv[len("s1-threat/"):], Actor: audit.SystemActor, Time: t}
	for _, m := range mod {
		m(&r)
	}
	return r
}

func triage(analyzer, reason string, created time.Time, calls int, prompt, completion int64) func(*audit.Record) {
	return func(r *audit.Record) {
		r.Analyzer, r.Reason, r.ThreatCreatedAt = analyzer, reason, created
		if calls > 0 {
			r.ModelUsage = &investigation.ModelUsage{Calls: calls, PromptTokens: prompt, CompletionTokens: completion}
		}
	}
}

func decided(decision, actor string) func(*audit.Record) {
	return func(r *audit.Record) { r.Decision, r.Actor = decision, actor }
}

func action(a, result string) func(*audit.Record) {
	return func(r *audit.Record) { r.Action, r.Decision = a, result }
}

// scenario is a week of six known investigations:
//
//	t1 automatic    TP High      created 08:00, triaged 08:02, kill verified 08:03, rollback timed out
//	t2 approved     TP Critical  created 09:00, triaged 09:04, asked 09:04, alice approved 09:14, quarantine verified 09:15; analyst agrees
//	t3 rejected     SUS Medium   created 10:00, triaged 10:01, asked 10:01, bob rejected 10:31; analyst disagrees
//	t4 timed out    TP High      created 11:00, triaged 11:10 by the rules (the model failed)
//	t5 recommended  FP Low       created 12:00 (from SentinelOne: an old triage record), triaged 12:06 by the rules (no model)
//	t6 running      TP High      created 12:52, triaged 13:00
func scenario() Inputs {
	const model = "openai:gpt-test"
	records := []audit.Record{
		rec("s1-threat/t1", "triage", audit.KindTriage, at(8, 2), triage(model, "", at(8, 0), 1, 1000, 200)),
		rec("s1-threat/t1", "decision/kill", audit.KindDecision, at(8, 2)),
		rec("s1-threat/t1", "action/auto/kill", audit.KindActionVerified, at(8, 3), action("kill", "success")),
		rec("s1-threat/t1", "action/auto/kill", audit.KindActionVerified, at(8, 4), action("kill", "success")), // a retried write
		rec("s1-threat/t1", "action/auto/rollback", audit.KindActionVerified, at(8, 20), action("rollback", "timed_out")),

		rec("s1-threat/t2", "triage", audit.KindTriage, at(9, 4), triage(model, "", at(9, 0), 2, 3000, 300)),
		rec("s1-threat/t2", "approval_requested/quarantine", audit.KindApprovalRequested, at(9, 4)),
		rec("s1-threat/t2", "approval_reminder", audit.KindApprovalRequested, at(9, 10)),
		rec("s1-threat/t2", "approval", audit.KindApproval, at(9, 14), decided("approved", "Alice@example.com")),
		rec("s1-threat/t2", "action/approved/quarantine", audit.KindActionVerified, at(9, 15), action("quarantine", "success")),
		rec("s1-threat/t2", "feedback/console/x", audit.KindAnalystFeedback, at(15, 0), decided("agree", "console-analyst")),

		rec("s1-threat/t3", "triage", audit.KindTriage, at(10, 1), triage(model, "", at(10, 0), 1, 2000, 500)),
		rec("s1-threat/t3", "approval_requested/isolate", audit.KindApprovalRequested, at(10, 1)),
		rec("s1-threat/t3", "approval", audit.KindApproval, at(10, 31), decided("rejected", "bob@example.com")),
		rec("s1-threat/t3", "feedback/approval", audit.KindAnalystFeedback, at(10, 31), decided("disagree", "bob@example.com")),

		rec("s1-threat/t4", "triage", audit.KindTriage, at(11, 10), triage("rules", "model failed: timed out", at(11, 0), 0, 0, 0)),
		rec("s1-threat/t4", "approval_requested/isolate", audit.KindApprovalRequested, at(11, 10)),
		rec("s1-threat/t4", "approval", audit.KindApproval, at(15, 10), decided("timed_out", audit.SystemActor)),

		rec("s1-threat/t5", "triage", audit.KindTriage, at(12, 6), triage("rules", "no LLM configured (S1C_LLM_MODEL is empty)", time.Time{}, 0, 0, 0)),

		rec("s1-threat/t6", "triage", audit.KindTriage, at(13, 0), triage(model, "", at(12, 52), 0, 0, 0)),
	}
	roles := map[string][]string{"soc-leads": {"alice@example.com"}, "tier2": {"alice@example.com", "carol@example.com"}}
	inv := func(id, verdict, priority, outcome string, start time.Time, running bool) Investigation {
		i := Investigation{WorkflowID: "s1-threat/" + id, ThreatID: id, Verdict: verdict, Priority: priority, Outcome: outcome, Start: start, Status: "Completed", Close: start.Add(time.Hour)}
		if running {
			i.Close, i.Status = time.Time{}, "Running"
		}
		return i
	}
	return Inputs{
		Window: week,
		Investigations: []Investigation{
			inv("t1", "true_positive", "High", "partially_mitigated", at(8, 1), false),
			inv("t2", "true_positive", "Critical", "mitigated", at(9, 1), false),
			inv("t3", "suspicious", "Medium", "rejected", at(10, 0), false),
			inv("t4", "true_positive", "High", "approval_timed_out", at(11, 1), false),
			inv("t5", "false_positive", "Low", "recommended", at(12, 1), false),
			inv("t6", "true_positive", "High", "", at(12, 53), true),
		},
		Trails: Trails(records, roles),
		Threats: []Threat{
			{ID: "t1", Name: "invoice.docm", AgentName: "SALES-LT-042", SHA1: "aaaa"},
			{ID: "t2", Name: "invoice.docm", AgentName: "SALES-LT-042", SHA1: "aaaa"},
			{ID: "t3", Name: "mimikatz.exe", AgentName: "DC-01", SHA1: "bbbb"},
			{ID: "t4", Name: "loader.dll", AgentName: "WEB-02", SHA256: "cccc"},
			{ID: "t5", Name: "backup.exe", AgentName: "FIN-07", SHA1: "dddd", CreatedAt: at(12, 0)},
			// t6: SentinelOne no longer returns it.
		},
		Pricing: &Pricing{PromptPerMillion: 2.5, CompletionPerMillion: 10},
	}
}

func TestComputeGivesTheScenariosKnownFigures(t *testing.T) {
	f := Compute(scenario())

	assert.Equal(t, "soc-report-2026-11-30T0000Z--2026-12-07T0000Z", f.ReportID)
	assert.Equal(t, 6, f.Investigations)
	assert.Equal(t, 1, f.Running)
	assert.Equal(t, []Count{{"true_positive", 4}, {"suspicious", 1}, {"false_positive", 1}, {"undetermined", 0}}, f.ByVerdict)
	assert.Equal(t, []Count{{"Critical", 1}, {"High", 3}, {"Medium", 1}, {"Low", 1}}, f.ByPriority)
	assert.Equal(t, []Count{{OutcomeAutomatic, 1}, {OutcomeApproved, 1}, {OutcomeRejected, 1}, {OutcomeTimedOut, 1},
		{OutcomeRecommended, 1}, {OutcomeClosedInConsole, 0}, {OutcomeError, 0}, {OutcomeRunning, 1}}, f.Outcomes)

	// Time to triage: 2, 4, 1, 10, 6 (created from SentinelOne), 8 minutes → sorted 1 2 4 6 8 10.
	// Nearest rank: p50 is the 3rd value (ceil(0.5×6)), p90 the 6th (ceil(0.9×6)).
	assert.Equal(t, 6, f.MTTT.N)
	assert.Equal(t, 4*time.Minute, f.MTTT.P50)
	assert.Equal(t, 10*time.Minute, f.MTTT.P90)
	assert.Equal(t, 10*time.Minute, f.MTTT.Max)
	assert.Equal(t, []Count{{"< 1 min", 0}, {"1–5 min", 3}, {"5–15 min", 3}, {"15–60 min", 0}, {"1–4 h", 0}, {"4–24 h", 0}, {"≥ 1 day", 0}}, f.MTTT.Buckets)
	// Time to respond: t1's kill at 3 minutes, t2's quarantine at 15.
	assert.Equal(t, Distribution{N: 2, P50: 3 * time.Minute, P90: 15 * time.Minute, Max: 15 * time.Minute, Buckets: f.MTTR.Buckets}, f.MTTR)

	// alice is in two roles, bob in none; reminders are not requests.
	assert.Equal(t, []GroupLatency{
		{Group: "soc-leads", Latency: Distribute([]time.Duration{10 * time.Minute})},
		{Group: "tier2", Latency: Distribute([]time.Duration{10 * time.Minute})},
		{Group: Unassigned, Latency: Distribute([]time.Duration{30 * time.Minute})},
	}, f.ApprovalLatency, "groups in name order")
	assert.Equal(t, 10*time.Minute, f.ApprovalLatency[0].Latency.P50)

	assert.Equal(t, []ActionCount{{"kill", "success", 1}, {"quarantine", "success", 1}, {"rollback", "timed_out", 1}}, f.Actions)
	assert.Equal(t, Count{"invoice.docm", 2}, f.TopThreats[0])
	assert.Contains(t, f.TopThreats, Count{"unknown (not returned by SentinelOne)", 1})
	assert.Equal(t, []Count{{"SALES-LT-042", 2}, {"DC-01", 1}, {"FIN-07", 1}, {"WEB-02", 1}}, f.TopHosts)
	assert.Equal(t, []Count{{"aaaa", 2}, {"bbbb", 1}, {"cccc", 1}, {"dddd", 1}}, f.TopHashes)

	assert.Equal(t, Agreement{Agree: 1, Disagree: 1}, f.Feedback)
	rate, ok := f.Feedback.Rate()
	assert.True(t, ok)
	assert.Equal(t, 50, rate)
	assert.Equal(t, 4, f.TriagedByModel)
	assert.Equal(t, 2, f.TriagedByRules)
	assert.ElementsMatch(t, []Count{{RulesModelFailed, 1}, {RulesNoModel, 1}}, f.RulesReasons)

	// 6000 prompt tokens at $2.50/M and 1000 completion tokens at $10/M: $0.015 + $0.01.
	assert.Equal(t, 4, f.Cost.Calls)
	assert.Equal(t, int64(6000), f.Cost.PromptTokens)
	assert.Equal(t, int64(1000), f.Cost.CompletionTokens)
	require.NotNil(t, f.Cost.USD)
	assert.InDelta(t, 0.025, *f.Cost.USD, 1e-9)
	assert.Len(t, f.Notes, 1, "t6 has no SentinelOne details")
}

func TestCostIsInTokensOnlyWithoutAPrice(t *testing.T) {
	in := scenario()
	in.Pricing = nil
	assert.Nil(t, Compute(in).Cost.USD)
}

func TestComputeIsDeterministic(t *testing.T) {
	assert.Equal(t, Compute(scenario()), Compute(scenario()))
}

func TestPercentilesNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 10; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Second)
	}
	d := Distribute(ds)
	assert.Equal(t, 10, d.N)
	assert.Equal(t, 5*time.Second, d.P50)
	assert.Equal(t, 9*time.Second, d.P90)
	assert.Equal(t, 10*time.Second, d.Max)
	assert.Equal(t, Distribution{}, Distribute(nil))
	one := Distribute([]time.Duration{time.Hour})
	assert.Equal(t, []time.Duration{time.Hour, time.Hour, time.Hour}, []time.Duration{one.P50, one.P90, one.Max})
}

func TestAnInvestigationWithoutAuditTrailCountsFromItsSearchAttributes(t *testing.T) {
	f := Compute(Inputs{Window: week, Investigations: []Investigation{
		{WorkflowID: "s1-threat/x", ThreatID: "x", Verdict: "true_positive", Priority: "High", Outcome: "mitigated", Status: "Completed", Start: at(1, 0), Close: at(1, 5), AgentName: "HOST-9"},
		{WorkflowID: "s1-threat/y", ThreatID: "y", Outcome: "error", Status: "Failed", Start: at(1, 0), Close: at(1, 5)},
	}})
	assert.Equal(t, 1, count(f.Outcomes, OutcomeAutomatic))
	assert.Equal(t, 1, count(f.Outcomes, OutcomeError))
	assert.Equal(t, []Count{{"HOST-9", 1}}, f.TopHosts, "the host comes from S1AgentName when SentinelOne gave none")
	assert.Equal(t, 0, f.MTTT.N)
	assert.Len(t, f.Notes, 2)
}

func count(cs []Count, label string) int {
	for _, c := range cs {
		if c.Label == label {
			return c.N
		}
	}
	return -1
}
