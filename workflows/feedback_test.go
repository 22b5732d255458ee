package workflows

import (
	"time"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
)

func (s *investigateSuite) feedbackRecords() []audit.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []audit.Record
	for _, r := range s.audits {
		if r.Kind == audit.KindAnalystFeedback {
			out = append(out, r)
		}
	}
	return out
}

// feedbackCount counts the feedback records sent to RecordAudit, which emits the
// counter for each (activities.TestRecordAuditCountsFeedback).
func (s *investigateSuite) feedbackCount(agreement, source string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, r := range s.audits {
		if r.Kind == audit.KindAnalystFeedback && (agreement == "" || r.Decision == agreement) && (source == "" || r.Channel == source) {
			n++
		}
	}
	return n
}

// A rejected recommendation is a disagreement: one feedback record (source approval)
// and one count.
func (s *investigateSuite) TestRejectionRecordsFeedback() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: false, Approver: "bob", Reason: "lab machine"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.Equal(OutcomeRejected, s.result().Outcome)

	recs := s.feedbackRecords()
	s.Require().Len(recs, 1)
	r := recs[0]
	s.Equal("s1-threat/t1/feedback/approval", r.ID)
	s.Equal(feedback.SourceApproval, r.Channel)
	s.Equal(string(feedback.Disagree), r.Decision)
	s.Equal("bob", r.Actor)
	s.Equal("true_positive", r.Verdict)
	s.Equal("openai:test", r.Analyzer)
	s.Equal("isolate", r.Action)
	s.Contains(r.Reason, "lab machine")
	s.Equal(int64(1), s.feedbackCount("disagree", "approval"))
}

// An approval is no feedback record.
func (s *investigateSuite) TestApprovalRecordsNoFeedback() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "ok"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.Equal(OutcomeMitigated, s.result().Outcome)
	s.Empty(s.feedbackRecords())
	s.Zero(s.feedbackCount("", ""))
}

// While the investigation waits, the console shows the copilot's own in_progress
// write-back (no feedback), the same state again (no feedback), then an analyst's
// false_positive: exactly one disagreement, with the ID of that console change.
func (s *investigateSuite) TestConsoleChangeWhileRunningRecordsFeedbackOnce() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	echo := ConsoleState{UpdatedAt: base, IncidentStatus: "in_progress", AnalystVerdict: "undefined"}
	fp := ConsoleState{UpdatedAt: base.Add(time.Minute), IncidentStatus: "in_progress", AnalystVerdict: "false_positive"}
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ThreatUpdatedSignal, echo)
		s.env.SignalWorkflow(ThreatUpdatedSignal, echo) // a re-read of the same change
	}, time.Minute)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ThreatUpdatedSignal, fp)
		s.env.SignalWorkflow(ThreatUpdatedSignal, fp)
	}, 2*time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.Equal(OutcomeResolvedInConsole, s.result().Outcome)

	recs := s.feedbackRecords()
	s.Require().Len(recs, 1, "the echo of the copilot's write-back and the repeated signal are no feedback")
	r := recs[0]
	s.Equal("s1-threat/t1/feedback/console/2025-03-01T12:01:00Z", r.ID)
	s.Equal(feedback.SourceConsole, r.Channel)
	s.Equal(string(feedback.Disagree), r.Decision)
	s.Equal("false_positive", r.AnalystVerdict)
	s.Equal("in_progress", r.IncidentStatus)
	s.Equal("true_positive", r.Verdict)
	s.Equal(feedback.ConsoleActor, r.Actor)
	s.Equal(int64(1), s.feedbackCount("disagree", "console"))
	s.Zero(s.feedbackCount("agree", "console"))
}

// The same console change gives the same record from the workflow as from the poller
// (which builds it from the finished investigation's Result).
func (s *investigateSuite) TestWorkflowAndPollerBuildTheSameConsoleRecord() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	fp := ConsoleState{UpdatedAt: time.Date(2025, 3, 1, 12, 1, 0, 0, time.UTC), IncidentStatus: "resolved", AnalystVerdict: "false_positive"}
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(ThreatUpdatedSignal, fp) }, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	res := s.result()
	recs := s.feedbackRecords()
	s.Require().Len(recs, 1)
	got := recs[0]

	want := feedback.Finish(feedback.ConsoleRecord(CopilotOf(got.RunID, res), fp.feedback()), CopilotOf(got.RunID, res), "t1", got.Time)
	s.Equal(want, got)
}
