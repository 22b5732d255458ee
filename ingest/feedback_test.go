package ingest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/ingest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/metrics/metricstest"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
	"github.com/s1copilot/s1copilot/workflows"
)

// copilots is a fake activities.Copilots: the results of finished investigations.
type copilots struct {
	mu      sync.Mutex
	results map[string]workflows.Result
	calls   int
}

func (c *copilots) Copilot(_ context.Context, threatID string) (feedback.Copilot, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	r, ok := c.results[threatID]
	if !ok {
		return feedback.Copilot{}, false, nil
	}
	return workflows.CopilotOf("run-"+threatID, r), true, nil
}

func feedbackLines(t *testing.T, buf *bytes.Buffer) []audit.Record {
	t.Helper()
	var out []audit.Record
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var r audit.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		out = append(out, r)
	}
	return out
}

// A finished investigation's threat changed in the console: the copilot's own
// write-back records nothing; the analyst's false_positive records exactly one
// disagreement, however often the change is read again.
func TestPollerRecordsAnalystFeedbackOfFinishedInvestigations(t *testing.T) {
	f := newFixture(t)
	st := &starter{closed: map[string]bool{simtest.ThreatMiner: true}}
	var buf bytes.Buffer
	cps := &copilots{results: map[string]workflows.Result{simtest.ThreatMiner: {
		ThreatID: simtest.ThreatMiner, Outcome: workflows.OutcomeMitigated, Verdict: investigation.VerdictTruePositive,
		Analyzer: "rules", PolicyVersion: "builtin-auto",
		Actions: []workflows.ActionResult{{Action: investigation.ActionKill, Disposition: policy.Auto, State: workflows.ActionSucceeded}},
	}}}
	p := &ingest.Poller{S1: f.s1, Investigations: st, Feedback: &ingest.ConsoleFeedback{
		Copilots: cps, Audit: audit.NewWriter(&buf), Now: f.clock.Now,
	}}
	metrics := metricstest.NewRecorder()
	var s testsuite.WorkflowTestSuite
	s.SetMetricsHandler(metrics)
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(p)
	poll := func(state ingest.PollState) ingest.PollResult {
		t.Helper()
		res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: state, Overlap: time.Hour})
		require.NoError(t, err)
		return res
	}
	res := poll(since(f.clock.Now().Add(-time.Hour)))
	require.Equal(t, 5, res.Started)

	// The copilot's own write-back (as its WriteBack activity does it, through the API).
	f.clock.Advance(time.Minute)
	_, err := f.s1.SetIncidentStatus(context.Background(), []string{simtest.ThreatMiner}, s1client.IncidentResolved, "true_positive")
	require.NoError(t, err)
	res = poll(res.State)
	assert.Equal(t, 1, res.Closed, "the change reached the finished route")
	assert.Zero(t, res.Feedback, "the copilot's own write-back is no analyst feedback")
	assert.Empty(t, feedbackLines(t, &buf))

	// The analyst overrides the verdict in the console.
	f.clock.Advance(time.Minute)
	changedAt := f.clock.Now()
	require.NoError(t, f.sim.UpdateThreat(simtest.ThreatMiner, simulator.ThreatUpdate{AnalystVerdict: "false_positive"}))
	res = poll(res.State)
	assert.Equal(t, 1, res.Feedback)

	// Read again: through the overlap, and with a lost cursor.
	res = poll(res.State)
	assert.Zero(t, res.Feedback+res.Closed, "the overlap re-read is not routed again")
	res = poll(since(f.clock.Now().Add(-time.Hour)))
	assert.Equal(t, 1, res.Closed, "a lost cursor routes the change again")
	assert.Zero(t, res.Feedback, "but it is not recorded again")

	recs := feedbackLines(t, &buf)
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, audit.KindAnalystFeedback, r.Kind)
	assert.Equal(t, "s1-threat/"+simtest.ThreatMiner+"/feedback/console/"+changedAt.UTC().Format(time.RFC3339Nano), r.ID)
	assert.Equal(t, "s1-threat/"+simtest.ThreatMiner, r.InvestigationID)
	assert.Equal(t, "run-"+simtest.ThreatMiner, r.RunID)
	assert.Equal(t, simtest.ThreatMiner, r.ThreatID)
	assert.Equal(t, string(feedback.Disagree), r.Decision)
	assert.Equal(t, feedback.SourceConsole, r.Channel)
	assert.Equal(t, "true_positive", r.Verdict)
	assert.Equal(t, "rules", r.Analyzer)
	assert.Equal(t, "builtin-auto", r.PolicyVersion)
	assert.Equal(t, "false_positive", r.AnalystVerdict)
	assert.Equal(t, "resolved", r.IncidentStatus)
	assert.Equal(t, int64(1), metrics.Count(feedback.MetricName, map[string]string{"agreement": "disagree", "source": "console"}))
	assert.Equal(t, int64(1), metrics.Count(feedback.MetricName, nil), "nothing else counted")
}

// A threat whose investigation is still running is not the poller's to judge: it is
// signalled, and the investigation records the feedback itself.
func TestPollerLeavesFeedbackOfRunningInvestigationsToThem(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	cps := &copilots{}
	var buf bytes.Buffer
	p := &ingest.Poller{S1: f.s1, Investigations: st, Feedback: &ingest.ConsoleFeedback{Copilots: cps, Audit: audit.NewWriter(&buf)}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(p)
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: time.Hour})
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	require.NoError(t, f.sim.UpdateThreat(simtest.ThreatMacro, simulator.ThreatUpdate{AnalystVerdict: "false_positive"}))
	res, err = activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Notified)
	assert.Zero(t, res.Feedback)
	assert.Zero(t, cps.calls, "no lookup for a running investigation")
	assert.Empty(t, buf.String())
}

// Feedback a running investigation records reaches the counter through RecordAudit,
// with or without an audit log.
func TestRecordAuditCountsFeedback(t *testing.T) {
	for _, withLog := range []bool{true, false} {
		acts := &activities.Activities{}
		var buf bytes.Buffer
		if withLog {
			acts.Audit = audit.NewWriter(&buf)
		}
		metrics := metricstest.NewRecorder()
		var s testsuite.WorkflowTestSuite
		s.SetMetricsHandler(metrics)
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(acts)
		records := []audit.Record{
			{ID: "s1-threat/1/feedback/approval", InvestigationID: "s1-threat/1", ThreatID: "1", Kind: audit.KindAnalystFeedback,
				Decision: "disagree", Channel: "approval", Verdict: "true_positive", Reason: "rejected", Actor: "alice", Time: time.Now()},
			{ID: "s1-threat/1/triage", InvestigationID: "s1-threat/1", ThreatID: "1", Kind: audit.KindTriage, Verdict: "true_positive", Actor: "s1copilot", Time: time.Now()},
		}
		_, err := env.ExecuteActivity(acts.RecordAudit, records)
		require.NoError(t, err)
		assert.Equal(t, int64(1), metrics.Count(feedback.MetricName, map[string]string{"agreement": "disagree", "source": "approval"}), "log %t", withLog)
		assert.Equal(t, int64(1), metrics.Count(feedback.MetricName, nil), "only the feedback record is counted (log %t)", withLog)
		assert.Equal(t, withLog, strings.Contains(buf.String(), "analyst_feedback"))
	}
}
