package workflows

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// withForensicsScripts gives the test's policy a Windows collection script.
func (s *investigateSuite) withForensicsScripts() {
	s.settings.Policy = s.settings.Policy.WithForensics(policy.Forensics{Scripts: map[string]string{"windows": "9001"}, Timeout: policy.Duration(20 * time.Minute)})
}

// Collection waits for approval by default, runs the policy's script with the
// investigation's marker, follows the task it started, and reports the package in the
// note and the audit record.
func (s *investigateSuite) TestApprovedForensicCollectionIsFollowedToItsPackage() {
	s.withForensicsScripts()
	ev := laptopEvidence()
	ev.Facts.CreatedAt = time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	s.expectEvidence(ev, analysis(investigation.ActionKill, investigation.ActionCollectForensics))
	s.env.OnActivity(a.VerifyMitigation, mock.Anything, mock.MatchedBy(func(in activities.VerifyInput) bool {
		return in.Action == investigation.ActionCollectForensics
	})).Return(func(_ context.Context, in activities.VerifyInput) (activities.VerifyResult, error) {
		s.Equal("parent-77", in.ParentTaskID, "the verification follows the task the request started")
		return activities.VerifyResult{State: "success", Detail: "task completed", Forensics: &activities.Forensics{
			ParentTaskID: in.ParentTaskID, TaskID: "task-1", Status: "completed", FileName: "SALES-LT-042.zip", DownloadURL: "https://s1.example/dl/task-1"}}, nil
	}).Once()
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		st := s.queryStatus()
		s.Equal([]investigation.Action{investigation.ActionCollectForensics}, st.AwaitingApproval, "global auto does not reach forensics")
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Require().NotNil(s.collection.Forensics)
	s.Equal("9001", s.collection.Forensics.ScriptID)
	s.Equal("s1c:"+WorkflowID("t1"), s.collection.Forensics.Marker)
	s.Equal(20*time.Minute, s.collection.Forensics.Timeout)
	s.Equal(ev.Facts.CreatedAt, s.collection.Forensics.Since)
	s.False(s.collection.FirstRequest, "a collection always looks for an earlier execution first")
	s.Contains(s.noteText("triage"), "collect_forensics [collection impact]: approve")
	s.Contains(s.noteText("outcome"), "Forensic collection: parent task parent-77, task task-1, status completed; package SALES-LT-042.zip: https://s1.example/dl/task-1")
	var rec *audit.Record
	for _, r := range s.auditKinds(audit.KindActionVerified) {
		if r.Action == string(investigation.ActionCollectForensics) {
			rec = &r
		}
	}
	s.Require().NotNil(rec)
	s.Equal(&audit.Forensics{ParentTaskID: "parent-77", TaskID: "task-1", Status: "completed", FileName: "SALES-LT-042.zip", DownloadURL: "https://s1.example/dl/task-1"}, rec.Forensics)
}

// A task the console holds for a user's approval is reported as such when the
// policy's timeout passes, not as a hang or a success.
func (s *investigateSuite) TestForensicsHeldInTheConsoleIsReportedAsSuch() {
	s.withForensicsScripts()
	s.settings.Policy.Actions = map[investigation.Action]policy.ActionRule{investigation.ActionCollectForensics: {Mode: policy.ModeAuto}}
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionCollectForensics))
	s.env.OnActivity(a.VerifyMitigation, mock.Anything, mock.Anything).Return(activities.VerifyResult{},
		temporal.NewApplicationErrorWithOptions("not settled yet: collect_forensics: pending_user_action: the console holds the script for a user's approval", activities.ErrTypeNotSettled,
			temporal.ApplicationErrorOptions{NonRetryable: true}))
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Require().Len(r.Actions, 1)
	s.Equal(ActionTimedOut, r.Actions[0].State)
	s.Contains(r.Actions[0].Detail, "pending_user_action")
	s.Contains(r.Actions[0].Detail, "not finished after 20m0s")
	s.Require().NotNil(r.Actions[0].Forensics)
	s.Equal("the task did not finish in time", r.Actions[0].Forensics.NoFile)
	s.Contains(s.noteText("outcome"), "no package: the task did not finish in time")
}
