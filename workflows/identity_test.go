package workflows

import (
	"crypto/ed25519"
	"crypto/rand"
	"time"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/investigation"
)

// keys are an approver's and the Slack bot's key pairs, in the policy.
type keys struct{ alice, bot ed25519.PrivateKey }

func (s *investigateSuite) withKeys(requireSigned bool) keys {
	alicePub, alice, err := ed25519.GenerateKey(rand.Reader)
	s.Require().NoError(err)
	botPub, bot, err := ed25519.GenerateKey(rand.Reader)
	s.Require().NoError(err)
	p := *s.settings.Policy
	p.Identity.RequireSigned = requireSigned
	p.Identity.ApproverKeys = map[string]string{"Alice@Example.com": identity.FormatPublicKey(alicePub)}
	p.Identity.SlackBotKey = identity.FormatPublicKey(botPub)
	s.settings.Policy = &p
	return keys{alice: alice, bot: bot}
}

// signed is d signed with key for the investigation wid, at the test clock's now.
func (s *investigateSuite) signed(key ed25519.PrivateKey, wid string, d Decision) Decision {
	d.SignedAt = s.env.Now()
	d.Signature = identity.Sign(key, d.Statement(wid))
	return d
}

// decideInTurn sends the decisions a minute apart, from the time the investigation waits.
func (s *investigateSuite) decideInTurn(ds ...Decision) {
	for i, d := range ds {
		s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(ApprovalSignal, d) }, time.Duration(i+1)*time.Minute)
	}
}

func (s *investigateSuite) refusals() []audit.Record { return s.auditKinds(audit.KindApprovalRefused) }

func (s *investigateSuite) TestASignedDecisionIsTheApprovers() {
	k := s.withKeys(true)
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	d := Decision{Approved: true, Approver: "alice@example.com", Reason: "confirmed", RequestID: "r1", Identity: identity.MethodSlack}
	s.decideInTurn(s.signed(k.alice, "s1-threat/t1", d))
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Equal(identity.MethodSignedCLI, r.Decision.Identity, "the sender's own Identity is never taken")
	s.Contains(s.noteText("outcome"), "approved by alice@example.com via signal (identity: signed-cli)")
	s.Equal(identity.MethodSignedCLI, s.auditKinds(audit.KindApproval)[0].Identity)
	s.Empty(s.refusals())
}

func (s *investigateSuite) TestForgedSignaturesAreRefusedAndTheRightOneWins() {
	k := s.withKeys(true)
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	good := Decision{Approved: true, Approver: "alice@example.com", Reason: "confirmed", RequestID: "r-good"}
	tampered := s.signed(k.alice, "s1-threat/t1", Decision{Approved: false, Approver: "alice@example.com", Reason: "no", RequestID: "r-bad"})
	tampered.Approved = true // changed after signing
	otherInvestigation := s.signed(k.alice, "s1-threat/t2", Decision{Approved: false, Approver: "alice@example.com", Reason: "replayed", RequestID: "r-other"})
	wrongKey := s.signed(k.bot, "s1-threat/t1", Decision{Approved: false, Approver: "alice@example.com", Reason: "bot key, no bot signer", RequestID: "r-wrong"})
	unsigned := Decision{Approved: false, Approver: "alice@example.com", Reason: "just a claim", RequestID: "r-unsigned", Channel: "slack"}
	stale := s.signed(k.alice, "s1-threat/t1", Decision{Approved: false, Approver: "alice@example.com", Reason: "old", RequestID: "r-stale"})
	stale.SignedAt = stale.SignedAt.Add(-time.Hour)
	stale.Signature = identity.Sign(k.alice, stale.Statement("s1-threat/t1"))
	s.decideInTurn(tampered, otherInvestigation, wrongKey, unsigned, stale)
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(ApprovalSignal, s.signed(k.alice, "s1-threat/t1", good)) }, 10*time.Minute)
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Equal("r-good", r.Decision.RequestID)
	refused := s.refusals()
	s.Require().Len(refused, 5, "each forged or unsigned decision is refused and audited")
	for _, want := range []string{"does not match", "does not match", "does not match", "requires signed decisions", "more than 10m0s from"} {
		s.Contains(refused[0].Reason, want)
		refused = refused[1:]
	}
	for _, rec := range s.refusals()[:3] {
		s.Equal(identity.MethodUnsigned, rec.Identity)
	}
}

func (s *investigateSuite) TestTheSlackBotVouchesForSlackUsers() {
	k := s.withKeys(true)
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	noUser := s.signed(k.bot, "s1-threat/t1", Decision{Approved: true, Approver: "mallory@example.com", Signer: identity.SlackBotSigner, RequestID: "r0"})
	d := Decision{Approved: true, Approver: "bob@example.com", Reason: "approved in Slack", Channel: "slack", RequestID: "slack-r1", Signer: identity.SlackBotSigner, SlackUser: "U0BOB"}
	s.decideInTurn(noUser, s.signed(k.bot, "s1-threat/t1", d))
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Equal("bob@example.com", r.Decision.Approver)
	s.Equal(identity.MethodSlack, r.Decision.Identity)
	s.Require().Len(s.refusals(), 1)
	s.Contains(s.refusals()[0].Reason, "must name its Slack user")
}

func (s *investigateSuite) TestUnsignedClaimsAreLabelledWhereThePolicyAllowsThem() {
	s.expectEvidence(laptopEvidence(), analysis(investigation.ActionIsolate))
	s.verifyAll("success")
	s.decideInTurn(Decision{Approved: true, Approver: "alice", Reason: "ok", Channel: "slack", Identity: identity.MethodSlack})
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	r := s.result()
	s.Equal(OutcomeMitigated, r.Outcome)
	s.Equal(identity.MethodUnsigned, r.Decision.Identity, "claiming Slack is not being Slack")
	s.Equal(identity.MethodUnsigned, s.auditKinds(audit.KindApproval)[0].Identity)
}
