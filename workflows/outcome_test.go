package workflows

import (
	"time"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// Every outcome leaves the console as it says, and nothing is left in_progress once
// nothing waits: what the threat looks like in SentinelOne after each road.
func (s *investigateSuite) TestEveryOutcomeLeavesTheConsoleRight() {
	inProgress := activities.WriteBackInput{ThreatID: "t1", IncidentStatus: "in_progress"}
	for _, tc := range []struct {
		name    string
		actions []investigation.Action
		verify  string // the verified state of every action
		decide  *Decision
		console *ConsoleState // an analyst's change while it waits
		outcome Outcome
		want    []activities.WriteBackInput
		end     string // the audit record that ends the pending decision ("" = none)
	}{
		{"automatic, verified", []investigation.Action{investigation.ActionKill}, "success", nil, nil, OutcomeMitigated,
			[]activities.WriteBackInput{{ThreatID: "t1", IncidentStatus: "resolved", AnalystVerdict: "true_positive"}}, ""},
		{"approved, verified", []investigation.Action{investigation.ActionIsolate}, "success", &Decision{Approved: true, Approver: "alice", Reason: "go"}, nil, OutcomeMitigated,
			[]activities.WriteBackInput{inProgress, {ThreatID: "t1", IncidentStatus: "resolved", AnalystVerdict: "true_positive"}}, "approved"},
		{"approved, failed", []investigation.Action{investigation.ActionIsolate}, "failed", &Decision{Approved: true, Approver: "alice", Reason: "go"}, nil, OutcomeMitigationFailed,
			[]activities.WriteBackInput{inProgress, {ThreatID: "t1", IncidentStatus: "unresolved", AnalystVerdict: "true_positive"}}, "approved"},
		{"rejected", []investigation.Action{investigation.ActionIsolate}, "", &Decision{Approved: false, Approver: "bob", Reason: "lab"}, nil, OutcomeRejected,
			[]activities.WriteBackInput{inProgress, {ThreatID: "t1", IncidentStatus: "unresolved"}}, "rejected"},
		{"no decision in time", []investigation.Action{investigation.ActionIsolate}, "", nil, nil, OutcomeApprovalTimedOut,
			[]activities.WriteBackInput{inProgress, {ThreatID: "t1", IncidentStatus: "unresolved"}}, "timed_out"},
		{"closed in the console", []investigation.Action{investigation.ActionIsolate}, "", nil, &ConsoleState{IncidentStatus: "resolved", AnalystVerdict: "false_positive"}, OutcomeResolvedInConsole,
			[]activities.WriteBackInput{inProgress}, "closed_in_console"},
		{"an analyst's verdict meanwhile is theirs", []investigation.Action{investigation.ActionIsolate}, "", nil, &ConsoleState{IncidentStatus: "in_progress", AnalystVerdict: "suspicious"}, OutcomeApprovalTimedOut,
			[]activities.WriteBackInput{inProgress}, "timed_out"},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.expectEvidence(laptopEvidence(), analysis(tc.actions...))
			if tc.verify != "" {
				s.verifyAll(tc.verify)
			}
			s.env.RegisterDelayedCallback(func() {
				if tc.console != nil {
					cs := *tc.console
					cs.UpdatedAt = time.Now()
					s.env.SignalWorkflow(ThreatUpdatedSignal, cs)
				}
				if tc.decide != nil {
					s.env.SignalWorkflow(ApprovalSignal, *tc.decide)
				}
			}, time.Minute)
			s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
			r := s.result()
			s.Equal(tc.outcome, r.Outcome)
			s.Equal(tc.want, s.writebacks)
			var wrote []string
			for _, w := range r.Wrote {
				wrote = append(wrote, w.IncidentStatus)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, w.IncidentStatus)
			}
			s.Equal(want, wrote, "the result says what was written, for analyst feedback")
			ends := s.auditKinds(audit.KindApproval)
			if tc.end == "" {
				s.Empty(ends)
				return
			}
			s.Require().Len(ends, 1, "one record ends the pending decision")
			s.Equal(tc.end, ends[0].Decision)
		})
	}
}

// A model that reads a threat SentinelOne rates malicious as benign does not close it:
// the rules' reading stands, the policy contains as it would without a model, and a
// human decides, seeing both.
func (s *investigateSuite) TestAModelDisagreementWaitsForAHuman() {
	an := analysis(investigation.ActionKill, investigation.ActionQuarantine)
	an.Analyzer, an.Rules = "rules", []string{"s1-malicious"}
	an.Disagreement = &investigation.Disagreement{S1Rating: "malicious", RulesVerdict: investigation.VerdictTruePositive,
		Reason: "the model contradicts SentinelOne's rating (malicious): the model says false_positive (confidence 1.00) where the rules engine says true_positive on the same evidence; a human decides",
		Model:  investigation.ModelReading{Analyzer: "openai:test", Verdict: investigation.VerdictFalsePositive, Confidence: 1, Summary: "Approved backup tool.", Evidence: []string{"publisher: Contoso"}}}
	an.FallbackReason = an.Disagreement.Reason
	s.expectEvidence(laptopEvidence(), an)
	s.verifyAll("success")
	var waiting Status
	s.env.RegisterDelayedCallback(func() {
		waiting = s.queryStatus()
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "SentinelOne is right"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(StageAwaitingApproval, waiting.Stage)
	s.Empty(waiting.AwaitingApproval)
	s.Equal([]investigation.Action{investigation.ActionKill, investigation.ActionQuarantine}, s.mitigated,
		"containment SentinelOne's reading supports ran at once: the model delays nothing")
	s.Contains(waiting.Review, "the model contradicts SentinelOne's rating")
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Equal("alice", r.Decision.Approver)
	note := s.noteText("triage")
	s.Contains(note, "The model contradicts SentinelOne's rating")
	s.Contains(note, "Model's reading (openai:test): false_positive (confidence 1.00): Approved backup tool.")
	s.Contains(note, "publisher: Contoso")
	s.Contains(note, "approve: SentinelOne's reading stands")
	for _, rec := range s.auditKinds(audit.KindTriage) {
		s.Contains(rec.Reason, "the model contradicts SentinelOne's rating")
	}
}

// With no action to approve, a disagreement is still a human's: a review the
// investigation waits for; nothing is done either way, and the console is restored.
func (s *investigateSuite) TestADisagreementWithoutActionsIsAReview() {
	an := analysis()
	an.Verdict, an.Analyzer = investigation.VerdictSuspicious, "rules"
	an.Disagreement = &investigation.Disagreement{S1Rating: "suspicious", RulesVerdict: investigation.VerdictSuspicious,
		Reason: "the model contradicts SentinelOne's rating (suspicious): the model says false_positive (confidence 0.90) where the rules engine says suspicious on the same evidence; a human decides",
		Model:  investigation.ModelReading{Analyzer: "openai:test", Verdict: investigation.VerdictFalsePositive, Confidence: 0.9}}
	ev := laptopEvidence()
	ev.Facts.ConfidenceLevel = "suspicious"
	s.expectEvidence(ev, an)
	var waiting Status
	s.env.RegisterDelayedCallback(func() {
		waiting = s.queryStatus()
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: false, Approver: "bob", Reason: "the model is right: our backup tool"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal(StageAwaitingApproval, waiting.Stage)
	s.Empty(waiting.AwaitingApproval)
	s.Contains(waiting.Review, "the model contradicts SentinelOne's rating (suspicious)")
	s.Equal(OutcomeRejected, r.Outcome)
	s.Empty(s.mitigated)
	s.Equal([]activities.WriteBackInput{{ThreatID: "t1", IncidentStatus: "in_progress"}, {ThreatID: "t1", IncidentStatus: "unresolved"}}, s.writebacks)
	s.Contains(s.noteText("triage"), "Waiting up to")
	s.NotEmpty(s.auditKinds(audit.KindApprovalRequested))
}

// The policy can hold automatic actions for the decision too, and say who settles a
// disagreement; whoever else tries is refused.
func (s *investigateSuite) TestThePolicyTunesDisagreements() {
	s.useExamplePolicy()
	s.settings.Policy.Disagreements = policy.Disagreements{Approvers: []string{"senior"}, HoldAutomatic: true}
	an := analysis(investigation.ActionKill, investigation.ActionQuarantine)
	an.Confidence, an.Analyzer = 0.95, "rules"
	an.Disagreement = &investigation.Disagreement{S1Rating: "malicious", RulesVerdict: investigation.VerdictTruePositive,
		Reason: "the model contradicts SentinelOne's rating (malicious): the model says false_positive (confidence 1.00) where the rules engine says true_positive on the same evidence; a human decides",
		Model:  investigation.ModelReading{Analyzer: "openai:test", Verdict: investigation.VerdictFalsePositive, Confidence: 1}}
	s.expectEvidence(laptopEvidence(), an)
	s.verifyAll("success")
	var waiting Status
	s.env.RegisterDelayedCallback(func() {
		waiting = s.queryStatus()
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice@example.com", Reason: "analyst"})
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "carol@example.com", Reason: "senior"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal([]investigation.Action{investigation.ActionKill, investigation.ActionQuarantine}, waiting.AwaitingApproval, "held for the decision")
	s.Equal("carol@example.com", r.Decision.Approver)
	refused := s.auditKinds(audit.KindApprovalRefused)
	s.Require().Len(refused, 1)
	s.Contains(refused[0].Reason, "may not settle a disagreement between the model and SentinelOne: only role senior may")
	s.Equal(OutcomeMitigated, r.Outcome)
}
