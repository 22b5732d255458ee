package workflows

import (
	"context"
	"errors"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/investigation"
)

// handoffs records the cases delivered and the ticket writes; answer decides each
// delivery's result.
type handoffs struct {
	cases   []activities.HandoffInput
	tickets []activities.TicketInput
}

func (s *investigateSuite) withHandoff(answer func(activities.HandoffInput) (activities.HandoffResult, error)) *handoffs {
	h := &handoffs{}
	s.settings.Handoff = &activities.HandoffSettings{RetryFor: time.Minute,
		InvestigationURL: "http://ui.example/namespaces/default/workflows/{workflowId}", ThreatURL: "https://s1.example/incidents/threats/{threatId}/overview"}
	s.env.OnActivity(a.HandOffCase, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.HandoffInput) (activities.HandoffResult, error) {
		s.mu.Lock()
		h.cases = append(h.cases, in)
		s.mu.Unlock()
		s.NoError(in.Case.Validate(), "every case sent is valid")
		return answer(in)
	})
	s.env.OnActivity(a.SetTicketID, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.TicketInput) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		h.tickets = append(h.tickets, in)
		return nil
	}).Maybe()
	return h
}

func (s *investigateSuite) TestTheCaseIsHandedOffAtTriageAndOutcome() {
	h := s.withHandoff(func(in activities.HandoffInput) (activities.HandoffResult, error) {
		if in.Case.Stage == handoff.StageTriage {
			return activities.HandoffResult{TicketID: "INC-4711"}, nil
		}
		return activities.HandoffResult{TicketID: "INC-4711"}, nil
	})
	ev := laptopEvidence()
	ev.Facts.CreatedAt = time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	ev.Facts.Indicators = []string{"Malware: encoded PowerShell"}
	s.expectEvidence(ev, analysis(investigation.ActionKill, investigation.ActionIsolate))
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "confirmed"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Require().Len(h.cases, 2)
	triage, outcome := h.cases[0], h.cases[1]
	s.Equal(handoff.StageTriage, triage.Case.Stage)
	s.Equal("s1-threat/t1/triage", triage.IdempotencyKey)
	s.Equal("s1-threat/t1", triage.Case.CaseID)
	s.Equal("SALES-LT-042", triage.Case.Host.ComputerName)
	s.Equal("true_positive", triage.Case.Verdict)
	s.Equal([]string{"Malware: encoded PowerShell"}, triage.Case.Evidence)
	s.Len(triage.Case.Plan, 2)
	s.Empty(triage.Case.Actions, "nothing has been done at triage")
	s.Equal("http://ui.example/namespaces/default/workflows/s1-threat%2Ft1", triage.Case.Links.WebUI)
	s.Equal("https://s1.example/incidents/threats/t1/overview", triage.Case.Links.Console)

	s.Equal(handoff.StageOutcome, outcome.Case.Stage)
	s.Equal("s1-threat/t1/outcome", outcome.IdempotencyKey)
	s.Equal("mitigated", outcome.Case.Outcome)
	s.Equal("INC-4711", outcome.Case.TicketID, "the outcome updates the ticket the triage opened")
	s.Require().Len(outcome.Case.Decisions, 1)
	s.Equal("alice", outcome.Case.Decisions[0].Approver)
	s.Len(outcome.Case.Actions, 2)
	s.Equal("success", outcome.Case.Actions[1].State)

	s.Equal([]activities.TicketInput{{ThreatID: "t1", TicketID: "INC-4711"}}, h.tickets, "the ticket is written to the threat once")
	s.Equal("INC-4711", r.TicketID)
	note := s.noteText("outcome")
	s.Contains(note, "Hand-off: triage case delivered (ticket INC-4711); outcome case delivered (ticket INC-4711).")
	s.Contains(note, "Ticket: INC-4711")
	var delivered []string
	for _, rec := range s.auditKinds(audit.KindHandoff) {
		delivered = append(delivered, rec.Decision+" "+rec.TicketID)
	}
	s.Equal([]string{"delivered INC-4711", "delivered INC-4711"}, delivered)
}

// A receiver that is down delays nothing: containment runs, the outcome note says the
// case was not delivered, and nothing is written to the threat.
func (s *investigateSuite) TestAReceiverThatIsDownBlocksNothing() {
	h := s.withHandoff(func(activities.HandoffInput) (activities.HandoffResult, error) {
		return activities.HandoffResult{}, temporal.NewApplicationError("handoff: the receiver answered 503", "HandoffUnavailable", errors.New("503"))
	})
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill, investigation.ActionQuarantine))
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Equal([]investigation.Action{investigation.ActionKill, investigation.ActionQuarantine}, s.mitigated)
	s.GreaterOrEqual(len(h.cases), 2, "both stages were tried")
	s.Empty(h.tickets)
	s.Empty(r.TicketID)
	s.Contains(r.Handoff, "triage case not delivered")
	s.Contains(r.Handoff, "outcome case not delivered")
	s.Contains(s.noteText("outcome"), "Hand-off: triage case not delivered")
	for _, rec := range s.auditKinds(audit.KindHandoff) {
		s.Equal("not_delivered", rec.Decision)
	}
}
