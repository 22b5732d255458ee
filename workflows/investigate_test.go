package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

type investigateSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	notes     []activities.NoteInput
	mitigated []investigation.Action
	// collection is the last collect_forensics request (its task is "parent-77").
	collection activities.MitigateInput
	writebacks []activities.WriteBackInput
	audits     []audit.Record
	reserved   []activities.ReserveInput
	// deny maps automatic actions the control workflow refuses to the reason.
	deny map[investigation.Action]string
	// settings are what GetSettings returns (a copy of the package default per test).
	settings activities.Settings
	// mu guards the recordings: the test environment runs activities concurrently.
	mu sync.Mutex
}

func TestInvestigateThreat(t *testing.T) { suite.Run(t, new(investigateSuite)) }

var settings = activities.Settings{
	Policy:            policy.Default(policy.ModeAuto, 0.8),
	ApprovalTimeout:   time.Hour,
	MitigationTimeout: 5 * time.Minute,
	MitigationPoll:    10 * time.Second,
}

func laptopEvidence() investigation.Evidence {
	return investigation.Evidence{Facts: investigation.ThreatFacts{
		ThreatID: "t1", ThreatName: "invoice.docm", ConfidenceLevel: "malicious", AgentID: "ag1",
		AgentName: "SALES-LT-042", OSType: "windows", MachineType: "laptop", NetworkStatus: "connected", SiteID: "s1",
	}}
}

func analysis(actions ...investigation.Action) investigation.Analysis {
	return investigation.Analysis{
		Verdict: investigation.VerdictTruePositive, Confidence: 0.95, Priority: investigation.PriorityHigh,
		Summary: "Word macro started encoded PowerShell.", RecommendedActions: actions, Analyzer: "openai:test",
	}
}

func (s *investigateSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	s.env.RegisterActivity(&activities.Activities{})
	s.notes, s.mitigated, s.writebacks, s.audits, s.reserved, s.deny = nil, nil, nil, nil, nil, nil
	s.collection = activities.MitigateInput{}
	s.env.OnActivity(a.RecordAudit, mock.Anything, mock.Anything).Return(func(_ context.Context, rs []audit.Record) error {
		for _, r := range rs {
			if err := r.Validate(); err != nil {
				return err
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.audits = append(s.audits, rs...)
		return nil
	}).Maybe()
	s.env.OnActivity(a.ReserveActions, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ReserveInput) (control.ReserveResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reserved = append(s.reserved, in)
		res := control.ReserveResult{Denied: map[investigation.Action]string{}}
		for _, act := range in.Actions {
			if why, ok := s.deny[act]; ok && in.Auto {
				res.Denied[act] = why
			} else {
				res.Granted = append(res.Granted, act)
			}
		}
		return res, nil
	}).Maybe()
	s.env.OnActivity(a.WriteBack, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.WriteBackInput) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.writebacks = append(s.writebacks, in)
		return nil
	}).Maybe()
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID("t1")})
	s.settings = settings
	s.env.OnActivity(a.GetSettings, mock.Anything).Return(func(context.Context) (activities.Settings, error) { return s.settings, nil }).Maybe()
	s.env.OnActivity(a.PostNote, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.NoteInput) (activities.NoteResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.notes = append(s.notes, in)
		return activities.NoteResult{}, nil
	}).Maybe()
	s.env.OnActivity(a.Mitigate, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.MitigateInput) (activities.MitigateResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.mitigated = append(s.mitigated, in.Action)
		if in.Action == investigation.ActionCollectForensics {
			s.collection = in
			return activities.MitigateResult{ParentTaskID: "parent-77"}, nil
		}
		return activities.MitigateResult{}, nil
	}).Maybe()
}

func (s *investigateSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *investigateSuite) expectEvidence(ev investigation.Evidence, an investigation.Analysis) {
	s.env.OnActivity(a.EnrichThreat, mock.Anything, "t1").Return(ev, nil).Once()
	s.env.OnActivity(a.AnalyzeThreat, mock.Anything, mock.Anything).Return(an, nil).Once()
}

func (s *investigateSuite) verifyAll(state string) {
	s.env.OnActivity(a.VerifyMitigation, mock.Anything, mock.Anything).Return(activities.VerifyResult{State: state}, nil)
}

func (s *investigateSuite) result() Result {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var r Result
	s.Require().NoError(s.env.GetWorkflowResult(&r))
	return r
}

func (s *investigateSuite) noteTextOrEmpty(step string) string {
	for _, n := range s.notes {
		if strings.HasSuffix(n.Marker, " "+step+"]") {
			return n.Text
		}
	}
	return ""
}

func (s *investigateSuite) noteText(step string) string {
	for _, n := range s.notes {
		if strings.HasSuffix(n.Marker, " "+step+"]") {
			return n.Text
		}
	}
	s.Failf("note missing", "no %s note among %d notes", step, len(s.notes))
	return ""
}

func (s *investigateSuite) TestAutoPathContainsWithoutApproval() {
	ev := laptopEvidence()
	ev.Facts.CreatedAt = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	s.expectEvidence(ev, analysis(investigation.ActionKill, investigation.ActionQuarantine))
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Nil(r.Decision)
	s.Equal([]investigation.Action{investigation.ActionKill, investigation.ActionQuarantine}, s.mitigated)
	s.Len(s.notes, 2)
	s.Contains(s.noteText("triage"), "true_positive")
	s.Contains(s.noteText("outcome"), "kill (auto): success")
	s.Equal("s1-threat/t1", strings.Fields(s.notes[0].Marker)[1])
	triage := s.auditKinds(audit.KindTriage)
	s.Require().Len(triage, 1)
	s.Equal(ev.Facts.CreatedAt, triage[0].ThreatCreatedAt, "the weekly report measures time to triage from the threat's creation")
	s.Equal([]activities.WriteBackInput{
		{ThreatID: "t1", IncidentStatus: "resolved", AnalystVerdict: "true_positive"},
	}, s.writebacks, "nothing waits for a human: resolved with the verdict once verified, no in_progress on the way")
}

func (s *investigateSuite) TestApprovalBySignalRunsTheHighImpactAction() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill, investigation.ActionIsolate))
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		st := s.queryStatus()
		s.Equal(StageAwaitingApproval, st.Stage)
		s.Equal([]investigation.Action{investigation.ActionIsolate}, st.AwaitingApproval)
		// kill ran already: containment does not wait for the isolation approval.
		s.Equal([]investigation.Action{investigation.ActionKill}, s.mitigated)
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "confirmed C2"})
	}, 30*time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Require().NotNil(r.Decision)
	s.Equal("alice", r.Decision.Approver)
	s.Equal("signal", r.Decision.Channel)
	s.Equal([]investigation.Action{investigation.ActionKill, investigation.ActionIsolate}, s.mitigated)
	s.Contains(s.noteText("triage"), "temporal workflow signal -w s1-threat/t1 --name approval")
	s.Contains(s.noteText("outcome"), "approved by alice via signal (identity: unsigned claim): confirmed C2")
}

func (s *investigateSuite) TestRejectionTakesNoHighImpactAction() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: false, Approver: "bob", Reason: "business critical demo laptop"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeRejected, r.Outcome)
	s.Empty(s.mitigated)
	s.Require().Len(r.Actions, 1)
	s.Equal(ActionNotTaken, r.Actions[0].State)
	s.Contains(s.noteText("outcome"), "rejected by bob")
}

func (s *investigateSuite) TestApprovalTimeoutTakesNoAction() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate, investigation.ActionRollback))
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeApprovalTimedOut, r.Outcome)
	s.True(r.ApprovalTimedOut)
	s.Empty(s.mitigated)
	s.Contains(s.noteText("outcome"), "none before the deadline")
}

func (s *investigateSuite) TestMitigationThatNeverSettlesIsReportedAsTimedOut() {
	// Rollback accepted by SentinelOne but never settling (no VSS): verify keeps saying
	// "not settled" until the mitigation budget runs out.
	ev := laptopEvidence()
	s.expectEvidence(ev, analysis(investigation.ActionKill, investigation.ActionRollback))
	s.env.OnActivity(a.VerifyMitigation, mock.Anything, mock.MatchedBy(func(in activities.VerifyInput) bool { return in.Action == investigation.ActionKill })).
		Return(activities.VerifyResult{State: "success"}, nil)
	s.env.OnActivity(a.VerifyMitigation, mock.Anything, mock.MatchedBy(func(in activities.VerifyInput) bool { return in.Action == investigation.ActionRollback })).
		Return(activities.VerifyResult{}, temporal.NewApplicationErrorWithOptions("not settled yet: rollback: pending", activities.ErrTypeNotSettled,
			temporal.ApplicationErrorOptions{Category: temporal.ApplicationErrorCategoryBenign, NextRetryDelay: 10 * time.Second}))
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "roll it back"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomePartiallyMitigated, r.Outcome)
	states := map[investigation.Action]ActionState{}
	for _, act := range r.Actions {
		states[act.Action] = act.State
	}
	s.Equal(ActionSucceeded, states[investigation.ActionKill])
	s.Equal(ActionTimedOut, states[investigation.ActionRollback], "a rollback that never settles must not be reported as success")
	s.Contains(s.noteText("outcome"), "rollback (approve): timed_out")
	s.Equal([]activities.WriteBackInput{{ThreatID: "t1", IncidentStatus: "in_progress"}, {ThreatID: "t1", IncidentStatus: "unresolved", AnalystVerdict: "true_positive"}}, s.writebacks,
		"a partial mitigation is not resolved, and nothing waits any more: unresolved, our verdict, for an analyst to finish")
}

func (s *investigateSuite) TestModelFailureFallsBackToRules() {
	s.env.OnActivity(a.EnrichThreat, mock.Anything, "t1").Return(laptopEvidence(), nil)
	s.env.OnActivity(a.AnalyzeThreat, mock.Anything, mock.Anything).
		Return(investigation.Analysis{}, temporal.NewNonRetryableApplicationError("schema violation: verdict \"benign\"", activities.ErrTypeModelOutput, nil)).Once()
	rules := analysis(investigation.ActionKill)
	rules.Analyzer, rules.Rules = "rules", []string{"s1-malicious"}
	s.env.OnActivity(a.AnalyzeWithRules, mock.Anything, mock.Anything, mock.MatchedBy(func(reason string) bool {
		return strings.Contains(reason, "schema violation")
	})).Return(func(_ context.Context, _ investigation.Evidence, reason string) (investigation.Analysis, error) {
		r := rules
		r.FallbackReason = reason
		return r, nil
	}).Once()
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal("rules", r.Analyzer)
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Contains(s.noteText("triage"), "fallback: model failed")
}

func (s *investigateSuite) TestUpdateIsValidatedAndFirstDecisionWins() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	var first, dup, noName error
	var firstOK bool
	cb := func(errp *error, ok *bool) *testsuite.TestUpdateCallback {
		return &testsuite.TestUpdateCallback{
			OnReject: func(err error) { *errp = err },
			OnAccept: func() {},
			OnComplete: func(any, error) {
				if ok != nil {
					*ok = true
				}
			},
		}
	}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(ApproveUpdate, "u-noname", cb(&noName, nil), Decision{Approved: true})
		s.env.UpdateWorkflow(ApproveUpdate, "u1", cb(&first, &firstOK), Decision{Approved: true, Approver: "carol", Reason: "ok"})
		s.env.UpdateWorkflow(ApproveUpdate, "u2", cb(&dup, nil), Decision{Approved: false, Approver: "dave", Reason: "late"})
		// A late signal is ignored too.
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: false, Approver: "erin"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.ErrorContains(noName, "approver identity is required")
	s.NoError(first)
	s.True(firstOK)
	s.ErrorContains(dup, "already decided by carol")
	s.Require().NotNil(r.Decision)
	s.Equal("carol", r.Decision.Approver)
	s.Equal("update", r.Decision.Channel)
	s.Equal(OutcomeMitigated, r.Outcome)
}

func (s *investigateSuite) TestUpdateRefusedWhenNotAwaitingApproval() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill))
	s.verifyAll("success")
	var rejected error
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(ApproveUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, Decision{Approved: true, Approver: "alice"})
	}, 0)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.result()
	s.ErrorContains(rejected, "not awaiting approval")
}

func (s *investigateSuite) TestUnknownThreatFailsTheInvestigationForAHuman() {
	s.env.OnActivity(a.EnrichThreat, mock.Anything, "t1").
		Return(investigation.Evidence{}, temporal.NewNonRetryableApplicationError("get threat t1: not found", activities.ErrTypeThreatNotFound, nil))
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.Require().True(s.env.IsWorkflowCompleted())
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var app *temporal.ApplicationError
	s.Require().True(errors.As(err, &app))
	s.Contains(err.Error(), "fetching the threat from SentinelOne failed")
	s.Empty(s.mitigated)
}

func (s *investigateSuite) TestEmptyThreatIDIsRefused() {
	s.env.ExecuteWorkflow(InvestigateThreat, Input{})
	s.Require().Error(s.env.GetWorkflowError())
	s.Contains(s.env.GetWorkflowError().Error(), "threat ID is required")
}

func (s *investigateSuite) queryStatus() Status {
	v, err := s.env.QueryWorkflow(StatusQuery)
	s.Require().NoError(err)
	var st Status
	s.Require().NoError(v.Get(&st))
	return st
}

func TestOutcomeOf(t *testing.T) {
	ok := ActionResult{State: ActionSucceeded}
	bad := ActionResult{State: ActionFailed}
	skipped := ActionResult{State: ActionNotTaken}
	for name, tc := range map[string]struct {
		r    Result
		want Outcome
	}{
		"nothing to do":         {Result{}, OutcomeRecommended},
		"all ok":                {Result{Actions: []ActionResult{ok, ok}}, OutcomeMitigated},
		"some failed":           {Result{Actions: []ActionResult{ok, bad}}, OutcomePartiallyMitigated},
		"all failed":            {Result{Actions: []ActionResult{bad}}, OutcomeMitigationFailed},
		"timed out, none ran":   {Result{ApprovalTimedOut: true, Actions: []ActionResult{skipped}}, OutcomeApprovalTimedOut},
		"rejected, none ran":    {Result{Decision: &Decision{Approved: false}, Actions: []ActionResult{skipped}}, OutcomeRejected},
		"rejected after auto":   {Result{Decision: &Decision{Approved: false}, Actions: []ActionResult{ok, skipped}}, OutcomeMitigated},
		"refused by S1 is done": {Result{Actions: []ActionResult{{State: ActionRefused}}}, OutcomeMitigationFailed},
	} {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, outcomeOf(tc.r)) })
	}
	require.Equal(t, "s1-threat/42", WorkflowID("42"))
	id, ok2 := ThreatIDFromWorkflowID("s1-threat/42")
	require.True(t, ok2)
	require.Equal(t, "42", id)
}

func (s *investigateSuite) TestAnalystClosingTheThreatInTheConsoleStopsTheWait() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill, investigation.ActionIsolate))
	s.verifyAll("success")
	now := time.Now()
	s.env.RegisterDelayedCallback(func() {
		s.Equal(StageAwaitingApproval, s.queryStatus().Stage)
		s.env.SignalWorkflow(ThreatUpdatedSignal, ConsoleState{UpdatedAt: now, IncidentStatus: "resolved", AnalystVerdict: "true_positive"})
		// An older state arriving late (overlapping polls) must not undo the newer one.
		s.env.SignalWorkflow(ThreatUpdatedSignal, ConsoleState{UpdatedAt: now.Add(-time.Minute), IncidentStatus: "unresolved"})
	}, 10*time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.True(r.ClosedInConsole)
	s.Nil(r.Decision)
	s.Equal([]investigation.Action{investigation.ActionKill}, s.mitigated, "kill ran before the analyst closed it; isolation never")
	s.Equal(OutcomeMitigated, r.Outcome, "what was done is still reported")
	s.Contains(s.noteText("outcome"), "isolate (approve): not_taken — the threat was closed in the SentinelOne console (incident status resolved")
	s.Less(s.env.Now().Sub(now), time.Hour, "the investigation stopped waiting at once, not at the approval deadline")
}

func (s *investigateSuite) TestThreatAlreadyMarkedFalsePositiveIsNotActedOn() {
	ev := laptopEvidence()
	ev.Facts.AnalystVerdict = "false_positive"
	s.expectEvidence(ev, analysis(investigation.ActionKill, investigation.ActionIsolate))
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeResolvedInConsole, r.Outcome)
	s.Empty(s.mitigated)
	s.Len(r.Actions, 2)
}

func (s *investigateSuite) TestRecommendOnlyLeavesTheConsoleUntouched() {
	ev := laptopEvidence()
	an := analysis(investigation.ActionKill)
	an.Verdict = investigation.VerdictFalsePositive
	s.expectEvidence(ev, an)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeRecommended, r.Outcome)
	s.Empty(s.writebacks)
	s.Len(s.notes, 2, "the notes still carry the recommendation")
	s.Equal(ConsoleRead, s.queryStatus().Console.Source, "nothing written: the status shows what was read")
}

// A decision sent again with the same request ID (a retried CLI call, a double click in
// Slack) is the same decision: neither refused nor recorded twice, by update or signal.
func (s *investigateSuite) TestRepeatedDecisionIsOneDecision() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	answers := map[string]error{}
	cb := func(id string) *testsuite.TestUpdateCallback {
		return &testsuite.TestUpdateCallback{
			OnReject: func(err error) { answers[id] = err }, OnAccept: func() {},
			OnComplete: func(_ any, err error) { answers[id] = err },
		}
	}
	approve := Decision{Approved: true, Approver: "carol", Reason: "ok", RequestID: "req-1"}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(ApproveUpdate, "u1", cb("u1"), approve)
		s.env.SignalWorkflow(ApprovalSignal, approve)
		s.env.UpdateWorkflow(ApproveUpdate, "u2", cb("u2"), approve)
		other := approve
		other.RequestID = "req-2"
		s.env.UpdateWorkflow(ApproveUpdate, "u3", cb("u3"), other)
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.NoError(answers["u1"])
	s.NoError(answers["u2"], "the same request again is answered as recorded")
	s.ErrorContains(answers["u3"], "already decided by carol", "another request is a second decision, refused")
	s.Len(s.auditKinds(audit.KindApproval), 1)
	s.Empty(s.auditKinds(audit.KindApprovalRefused), "a repeat is not a refusal")
	s.Equal([]investigation.Action{investigation.ActionIsolate}, s.mitigated)
}

// The status says where its console state comes from: read at the start, reported by the
// poller, or written by s1copilot at the end (not what the console said hours ago).
func (s *investigateSuite) TestStatusLabelsTheConsoleState() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill, investigation.ActionIsolate))
	s.verifyAll("success")
	var atStart, afterReport *ConsoleState
	s.env.RegisterDelayedCallback(func() {
		atStart = s.queryStatus().Console
		s.env.SignalWorkflow(ThreatUpdatedSignal, ConsoleState{UpdatedAt: time.Now(), IncidentStatus: "in_progress"})
	}, time.Minute)
	s.env.RegisterDelayedCallback(func() {
		afterReport = s.queryStatus().Console
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "go"})
	}, 2*time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.Equal(OutcomeMitigated, s.result().Outcome)

	s.Require().NotNil(atStart)
	s.Equal(ConsoleWritten, atStart.Source, "in_progress was written while the isolation waits")
	s.Equal("in_progress", atStart.IncidentStatus)
	s.Require().NotNil(afterReport)
	s.Equal(ConsoleReported, afterReport.Source)
	end := s.queryStatus().Console
	s.Require().NotNil(end)
	s.Equal(ConsoleState{UpdatedAt: end.UpdatedAt, IncidentStatus: "resolved", AnalystVerdict: "true_positive", Source: ConsoleWritten}, *end)
}

// An investigation the poller started enriches from the poller's snapshot of the
// threat (the activity then reads only the agent and the timeline).
func (s *investigateSuite) TestThePollersSnapshotIsTheFirstLookAtTheThreat() {
	ev := laptopEvidence()
	snap := ev.Facts
	var got []activities.EnrichInput
	s.env.OnActivity(a.EnrichFromSnapshot, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.EnrichInput) (investigation.Evidence, error) {
		got = append(got, in)
		return ev, nil
	}).Once()
	s.env.OnActivity(a.AnalyzeThreat, mock.Anything, mock.Anything).Return(analysis(investigation.ActionKill), nil).Once()
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1", Snapshot: &snap})

	s.Equal(OutcomeMitigated, s.result().Outcome)
	s.Require().Len(got, 1, "EnrichThreat is not called (AfterTest fails on an unexpected activity)")
	s.Equal("t1", got[0].ThreatID)
	s.Equal(&snap, got[0].Snapshot)
	// The test environment gives no first run ID; a run that cannot tell it is the
	// first reads the threat again (on the dev server the first run uses the snapshot:
	// integration's TestPollerSnapshotSparesTheRead).
	s.True(got[0].ReadAgain, "unknown run: read again")
}
