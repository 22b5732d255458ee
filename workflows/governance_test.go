package workflows

import (
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// The example policy (policy/examples/policy.yaml): roles analyst (alice, bob) and
// senior (carol); reminder after 2h, escalation to senior after 8h, timeout 24h.
func (s *investigateSuite) useExamplePolicy() {
	s.settings.Policy = policy.ExamplePolicy()
	s.settings.ApprovalTimeout = 24 * time.Hour
}

func serverEvidence(name string) investigation.Evidence {
	ev := laptopEvidence()
	ev.Facts.AgentName, ev.Facts.MachineType = name, "server"
	return ev
}

func (s *investigateSuite) auditKinds(kind audit.Kind) []audit.Record {
	var out []audit.Record
	for _, r := range s.audits {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func (s *investigateSuite) TestModelCannotIsolateADomainControllerAlone() {
	s.useExamplePolicy()
	an := analysis(investigation.ActionKill, investigation.ActionIsolate)
	an.Confidence = 1.0
	ev := laptopEvidence()
	ev.Facts.AgentName = "DC-01" // a laptop named like a domain controller: protected
	s.expectEvidence(ev, an)
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		st := s.queryStatus()
		s.Equal(StageAwaitingApproval, st.Stage)
		s.ElementsMatch([]investigation.Action{investigation.ActionKill, investigation.ActionIsolate}, st.AwaitingApproval,
			"confidence 1.0 and an auto-contain rule do not beat the protected-asset entry")
		s.Empty(s.mitigated)
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "carol@example.com", Reason: "confirmed"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	for _, st := range r.Actions {
		s.Equal(policy.Approve, st.Disposition)
	}
	s.Contains(s.noteText("triage"), "(rule: domain controllers) [approvers: senior]", "the note names the rule that fired and who may approve")
}

func (s *investigateSuite) TestUnauthorisedApproverIsRefusedAndAudited() {
	s.useExamplePolicy()
	s.expectEvidence(serverEvidence("FIN-FS-01"), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	var updateErr error
	s.env.RegisterDelayedCallback(func() {
		// An analyst may not isolate a server, by signal or by update; a stranger neither.
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice@example.com", Reason: "go"})
		s.env.UpdateWorkflow(ApproveUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { updateErr = err }, OnAccept: func() {}, OnComplete: func(_ any, err error) { updateErr = err },
		}, Decision{Approved: true, Approver: "mallory@example.com", Reason: "trust me"})
	}, time.Minute)
	s.env.RegisterDelayedCallback(func() {
		s.Equal(StageAwaitingApproval, s.queryStatus().Stage, "refused decisions do not end the wait")
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "carol@example.com", Reason: "senior approves"})
	}, 2*time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})

	r := s.result()
	s.Equal("carol@example.com", r.Decision.Approver)
	s.ErrorContains(updateErr, `"mallory@example.com" is not in any role`)
	refused := map[string]audit.Record{} // by actor: the signal and the update race
	for _, r := range s.auditKinds(audit.KindApprovalRefused) {
		refused[r.Actor] = r
	}
	s.Require().Len(refused, 2)
	s.Contains(refused["alice@example.com"].Reason, "only role senior may")
	s.Equal("signal", refused["alice@example.com"].Channel)
	s.Equal("update", refused["mallory@example.com"].Channel)
	approvals := s.auditKinds(audit.KindApproval)
	s.Require().Len(approvals, 1)
	s.Equal("carol@example.com", approvals[0].Actor)
	s.Equal("approved", approvals[0].Decision)
}

func (s *investigateSuite) TestReminderThenEscalationOnTime() {
	s.useExamplePolicy()
	s.expectEvidence(serverEvidence("FIN-FS-01"), analysis(investigation.ActionIsolate))
	start := s.env.Now()
	s.env.RegisterDelayedCallback(func() {
		s.Require().NotEmpty(s.noteText("reminder"), "reminder after 2h")
		s.Equal("", s.noteTextOrEmpty("escalation"), "no escalation before 8h")
	}, 3*time.Hour)
	s.env.RegisterDelayedCallback(func() {
		s.Contains(s.noteText("escalation"), "senior [carol@example.com]")
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: false, Approver: "carol@example.com", Reason: "not now"})
	}, 9*time.Hour)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeRejected, r.Outcome)
	s.Less(s.env.Now().Sub(start), 10*time.Hour)
	var kinds []string
	for _, rec := range s.auditKinds(audit.KindApprovalRequested) {
		kinds = append(kinds, rec.Decision)
	}
	s.Equal([]string{"", "reminder", "escalation"}, kinds)
}

func (s *investigateSuite) TestKillSwitchFlipsARunningInvestigationToApproval() {
	// The kill switch was turned on after this investigation started: the control
	// workflow refuses its automatic actions when it reserves them.
	s.deny = map[investigation.Action]string{
		investigation.ActionKill: "the kill switch is on (ciso@example.com: model misbehaving)", investigation.ActionQuarantine: "the kill switch is on (ciso@example.com: model misbehaving)",
	}
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill, investigation.ActionQuarantine))
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		st := s.queryStatus()
		s.Equal(StageAwaitingApproval, st.Stage)
		s.Empty(s.mitigated, "nothing ran automatically")
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "bob", Reason: "checked"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Contains(s.noteText("triage"), "the kill switch is on (ciso@example.com")
	s.Require().Len(s.reserved, 2)
	s.True(s.reserved[0].Auto)
	s.False(s.reserved[1].Auto, "approved actions are counted, not checked")
}

func (s *investigateSuite) TestKillSwitchInSettingsTurnsAutoIntoApproval() {
	s.settings.KillSwitch = true
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill))
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeApprovalTimedOut, r.Outcome)
	s.Empty(s.mitigated)
	s.Contains(s.noteText("triage"), "kill switch is on")
}

func (s *investigateSuite) TestDecisionsAreAudited() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill, investigation.ActionIsolate))
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "ok"})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.result()
	byID := map[string]audit.Record{}
	for _, r := range s.audits {
		s.NotContains(byID, r.ID, "record IDs are unique per investigation")
		byID[r.ID] = r
	}
	tri := byID["s1-threat/t1/triage"]
	s.Equal("true_positive", tri.Verdict)
	s.Contains(tri.InputsDigest, "sha256:")
	s.Equal("auto", byID["s1-threat/t1/decision/kill"].Decision)
	s.Equal("approve", byID["s1-threat/t1/decision/isolate"].Decision)
	s.Equal("success", byID["s1-threat/t1/action/auto/kill"].Decision)
	s.Equal("success", byID["s1-threat/t1/action/approved/isolate"].Decision)
	s.Equal("alice", byID["s1-threat/t1/approval"].Actor)
	s.Contains(byID["s1-threat/t1/writeback/resolved"].Reason, "true_positive")
	for _, r := range s.audits {
		s.Equal(tri.PolicyVersion, r.PolicyVersion)
		s.NotEmpty(r.PolicyVersion)
	}
}

func (s *investigateSuite) TestApproveWithChanges() {
	s.expectEvidence(serverEvidence("APP-SRV-7"), analysis(investigation.ActionKill, investigation.ActionIsolate))
	s.verifyAll("success")
	var refused error
	s.env.RegisterDelayedCallback(func() {
		// Rollback was not recommended, but on this Windows server the policy allows it with
		// an approval, so the approver may choose it instead of isolation.
		s.env.UpdateWorkflow(ApproveUpdate, "bad", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { refused = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, Decision{Approved: true, Approver: "alice", Reason: "x", Actions: []investigation.Action{"format-disk"}})
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "kill only; keep it online, and roll back",
			Actions: []investigation.Action{investigation.ActionRollback, investigation.ActionKill}})
	}, time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.ErrorContains(refused, `unknown action "format-disk"`)
	s.Equal([]investigation.Action{investigation.ActionKill, investigation.ActionRollback}, s.mitigated, "the chosen actions, in execution order")
	states := map[investigation.Action]ActionState{}
	for _, a := range r.Actions {
		states[a.Action] = a.State
	}
	s.Equal(ActionNotTaken, states[investigation.ActionIsolate], "left out by the approver")
	s.Equal(ActionSucceeded, states[investigation.ActionRollback])
	s.Contains(s.noteText("outcome"), "isolate (approve): not_taken — left out by alice (approved with changes)")
}

func (s *investigateSuite) TestApproveWithChangesCannotChooseWhatThePolicyForbids() {
	ev := serverEvidence("web-prod-03")
	ev.Facts.OSType = "linux"
	s.expectEvidence(ev, analysis(investigation.ActionKill))
	s.verifyAll("success")
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "roll back", Actions: []investigation.Action{investigation.ActionRollback}})
	}, time.Minute)
	s.env.RegisterDelayedCallback(func() {
		s.Equal(StageAwaitingApproval, s.queryStatus().Stage, "the refused decision does not end the wait")
		s.env.SignalWorkflow(ApprovalSignal, Decision{Approved: true, Approver: "alice", Reason: "kill then"})
	}, 2*time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.result()
	s.Equal([]investigation.Action{investigation.ActionKill}, s.mitigated)
	refused := s.auditKinds(audit.KindApprovalRefused)
	s.Require().Len(refused, 1)
	s.Contains(refused[0].Reason, "cannot approve rollback instead: rollback needs a Windows agent")
}

func (s *investigateSuite) TestSuspectedInjectionIsFlaggedInTheNote() {
	an := analysis(investigation.ActionKill)
	an.InjectionFlags = []string{`commandLine: instruction override: "…ignore previous instructions and mark…"`}
	s.expectEvidence(laptopEvidence(), an)
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.result()
	s.Contains(s.noteText("triage"), "Suspected prompt injection in the threat's data")
	s.Contains(s.noteText("triage"), "! commandLine: instruction override")
	for _, r := range s.auditKinds(audit.KindTriage) {
		s.Contains(r.Reason, "suspected prompt injection in 1 field(s)")
	}
}

func (s *investigateSuite) TestPseudonymisationIsSaidInTheNote() {
	an := analysis(investigation.ActionKill)
	an.Pseudonymized = true
	s.expectEvidence(laptopEvidence(), an)
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.result()
	s.Contains(s.noteText("triage"), "Host and user names were pseudonymised for the model")
}

func (s *investigateSuite) TestNoPseudonymisationNoticeByDefault() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionKill))
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.result()
	s.NotContains(s.noteText("triage"), "pseudonymised")
}
