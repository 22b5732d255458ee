package workflows

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// slackCalls records what the investigation asked of Slack, in order.
type slackCalls struct {
	posts   []messages.Card
	updates []messages.Card
	replies []activities.SlackReplyInput
}

// withSlack gives the investigation Slack settings and records its Slack activities;
// postErr, when set, is what posting returns.
func (s *investigateSuite) withSlack(postAll bool, postErr error) *slackCalls {
	calls := &slackCalls{}
	s.settings.Slack = &activities.SlackSettings{Channel: "C0SOC", PostAll: postAll, EscalationMention: "<!subteam^S0SOC>",
		InvestigationURL: "http://ui.example/namespaces/default/workflows/{workflowId}", ThreatURL: "https://s1.example/incidents/threats/{threatId}/overview"}
	s.env.OnActivity(a.PostSlackMessage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SlackPostInput) (string, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		calls.posts = append(calls.posts, in.Card)
		if postErr != nil {
			return "", postErr
		}
		return "1700000000.000101", nil
	}).Maybe()
	s.env.OnActivity(a.UpdateSlackMessage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SlackUpdateInput) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.Equal("1700000000.000101", in.TS, "updates go to the posted message")
		calls.updates = append(calls.updates, in.Card)
		return nil
	}).Maybe()
	s.env.OnActivity(a.ReplySlackThread, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SlackReplyInput) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		calls.replies = append(calls.replies, in)
		return nil
	}).Maybe()
	return calls
}

func (s *investigateSuite) TestTheSlackMessageFollowsTheInvestigation() {
	calls := s.withSlack(false, nil)
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill, investigation.ActionIsolate))
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		s.Require().NotEmpty(calls.updates, "the message shows the pending decision")
		pending := calls.updates[len(calls.updates)-1]
		s.Equal(messages.StatePending, pending.State)
		s.Equal([]messages.Pending{{Action: "isolate", MayApprove: "anyone"}}, pending.Pending)
		s.Equal(s.env.Now().Add(-30*time.Minute).Add(time.Hour).UTC(), pending.Deadline.UTC())
		s.Equal([]messages.Result{{Action: "kill", State: "success"}}, pending.Results, "kill ran at once")
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "confirmed C2"})
	}, 30*time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Empty(r.Slack)

	s.Require().Len(calls.posts, 1, "one message per investigation")
	post := calls.posts[0]
	s.Equal("s1-threat/t1", post.WorkflowID)
	s.Equal("SALES-LT-042 (none, laptop)", post.Host)
	s.Equal("malicious", post.S1Rating)
	s.Equal("http://ui.example/namespaces/default/workflows/s1-threat%2Ft1", post.InvestigationURL)
	s.Equal("https://s1.example/incidents/threats/t1/overview", post.ThreatURL)
	s.Len(post.Policy, 2)

	var decided *messages.Card
	for i, c := range calls.updates {
		if c.State == messages.StateDecided && decided == nil {
			decided = &calls.updates[i]
		}
	}
	s.Require().NotNil(decided, "the decision reaches the message")
	s.Equal("alice", decided.Decision.By)
	s.Equal("confirmed C2", decided.Decision.Reason)
	s.False(decided.Decision.At.IsZero())
	final := calls.updates[len(calls.updates)-1]
	s.Equal("mitigated", final.Outcome)
	s.Equal([]messages.Result{{Action: "kill", State: "success"}, {Action: "isolate", State: "success"}}, final.Results)
}

func (s *investigateSuite) TestSlackDownNeverHoldsUpTheInvestigation() {
	calls := s.withSlack(false, temporal.NewNonRetryableApplicationError("slack server error: 503 Service Unavailable", activities.ErrTypeSlack, nil))
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		s.Equal(StageAwaitingApproval, s.queryStatus().Stage)
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "by CLI"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome, "approved by CLI while Slack was down")
	s.Len(calls.posts, 1)
	s.Empty(calls.updates, "nothing to update")
	s.Contains(r.Slack, "could not be posted")
	s.Contains(s.noteText("outcome"), "Slack: the Slack message could not be posted (slack server error: 503")
}

func (s *investigateSuite) TestTheMessageSaysWhenNobodyDecided() {
	s.useExamplePolicy()
	calls := s.withSlack(false, nil)
	s.expectEvidence(serverEvidence("FIN-FS-01"), analysis(investigation.ActionIsolate))
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeApprovalTimedOut, r.Outcome)
	final := calls.updates[len(calls.updates)-1]
	s.Equal(messages.StateNoDecision, final.State)
	s.Contains(final.DecisionLine(), "no action taken")
	s.Require().Len(calls.replies, 2, "a reminder, then an escalation, in the thread")
	s.Equal("reminder", calls.replies[0].Key)
	s.Equal("escalation", calls.replies[1].Key)
	s.Equal("1700000000.000101", calls.replies[1].TS)
	s.Contains(calls.replies[1].Text, "<!subteam^S0SOC> escalation: [isolate] still wait(s) for approval")
	s.Contains(calls.replies[1].Text, "senior [carol@example.com]")
}

func (s *investigateSuite) TestOnlyTheInvestigationsTheSettingsNamePost() {
	calls := s.withSlack(false, nil)
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill))
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.Equal(OutcomeMitigated, s.result().Outcome)
	s.Empty(calls.posts, "nothing waited for a human and the settings post only those")
}

func (s *investigateSuite) TestPostAllPostsTheAutomaticOnesToo() {
	calls := s.withSlack(true, nil)
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill))
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.Equal(OutcomeMitigated, s.result().Outcome)
	s.Require().Len(calls.posts, 1)
	s.Equal(messages.StateTriaged, calls.posts[0].State)
	s.Require().NotEmpty(calls.updates)
	final := calls.updates[len(calls.updates)-1]
	s.Equal("mitigated", final.Outcome)
	s.Nil(final.Decision)
}
