package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"

	inv "github.com/s1copilot/s1copilot/investigation"
)

func facts(os, machine, s1conf, net string) inv.ThreatFacts {
	return inv.ThreatFacts{ThreatID: "t", AgentID: "a", OSType: os, MachineType: machine, ConfidenceLevel: s1conf, NetworkStatus: net}
}

// decideOne runs Decide for a single action.
func decideOne(t *testing.T, p *Policy, in Inputs, action inv.Action) Step {
	t.Helper()
	in.Analysis.RecommendedActions = []inv.Action{action}
	plan := Decide(p, in)
	if !assert.Len(t, plan.Steps, 1) {
		t.FailNow()
	}
	assert.Equal(t, p.VersionString(), plan.PolicyVersion)
	return plan.Steps[0]
}

// TestDefault is the original builtin policy's table, run against Default: it must
// reproduce those decisions exactly.
func TestDefault(t *testing.T) {
	auto := Default(ModeAuto, 0.8)
	tp := func(conf float64) inv.Analysis {
		return inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: conf}
	}
	laptop := facts("windows", "laptop", "malicious", "connected")
	for _, tc := range []struct {
		name   string
		p      *Policy
		a      inv.Analysis
		f      inv.ThreatFacts
		action inv.Action
		want   Disposition
		reason string
	}{
		{"kill on a laptop, confident malicious", auto, tp(0.95), laptop, inv.ActionKill, Auto, "low impact"},
		{"quarantine on a laptop, confident malicious", auto, tp(0.95), laptop, inv.ActionQuarantine, Auto, "low impact"},
		{"remediate is medium impact", auto, tp(0.95), laptop, inv.ActionRemediate, Approve, "medium impact"},
		{"isolation is high impact", auto, tp(0.99), laptop, inv.ActionIsolate, Approve, "high impact"},
		{"rollback is high impact", auto, tp(0.99), laptop, inv.ActionRollback, Approve, "high impact"},
		{"anything on a server needs a human", auto, tp(0.99), facts("windows", "server", "malicious", "connected"), inv.ActionKill, Approve, "servers"},
		{"kubernetes node counts as a server", auto, tp(0.99), facts("linux", "kubernetes node", "malicious", "connected"), inv.ActionKill, Approve, "servers"},
		{"below the confidence threshold", auto, tp(0.6), laptop, inv.ActionKill, Approve, "below the automatic threshold"},
		{"at the confidence threshold", auto, tp(0.8), laptop, inv.ActionKill, Auto, ""},
		{"S1 only suspicious", auto, tp(0.95), facts("windows", "laptop", "suspicious", "connected"), inv.ActionKill, Approve, "not malicious"},
		{"suspicious verdict", auto, inv.Analysis{Verdict: inv.VerdictSuspicious, Confidence: 0.99}, laptop, inv.ActionQuarantine, Approve, "only suspicious"},
		{"false positive never acts", auto, inv.Analysis{Verdict: inv.VerdictFalsePositive, Confidence: 0.99}, laptop, inv.ActionKill, Recommend, "verdict is false_positive"},
		{"undetermined never acts", auto, inv.Analysis{Verdict: inv.VerdictUndetermined, Confidence: 0.99}, laptop, inv.ActionKill, Recommend, "undetermined"},
		{"recommend mode never acts", Default(ModeRecommend, 0.8), tp(1), laptop, inv.ActionKill, Recommend, "mode is recommend"},
		{"approve mode asks for everything", Default(ModeApprove, 0.8), tp(1), laptop, inv.ActionKill, Approve, "mode is approve"},
		{"rollback on linux is not applicable", auto, tp(1), facts("linux", "server", "malicious", "connected"), inv.ActionRollback, Skip, "Windows"},
		{"rollback on macos is not applicable", auto, tp(1), facts("macos", "laptop", "malicious", "connected"), inv.ActionRollback, Skip, "Windows"},
		{"rollback on legacy windows is offered", auto, tp(1), facts("windows_legacy", "desktop", "malicious", "connected"), inv.ActionRollback, Approve, "high impact"},
		{"remediate on linux is not supported", auto, tp(1), facts("linux", "desktop", "malicious", "connected"), inv.ActionRemediate, Skip, "Linux"},
		{"remediate on macos is offered", auto, tp(1), facts("macos", "laptop", "malicious", "connected"), inv.ActionRemediate, Approve, "medium"},
		{"already isolated", auto, tp(1), facts("windows", "laptop", "malicious", "disconnected"), inv.ActionIsolate, Skip, "already isolated"},
		{"isolation in progress", auto, tp(1), facts("windows", "laptop", "malicious", "disconnecting"), inv.ActionIsolate, Skip, "already isolated"},
		{"applicability beats recommend mode", Default(ModeRecommend, 0), tp(1), facts("linux", "server", "malicious", "connected"), inv.ActionRollback, Skip, "Windows"},
		{"confidence 1.0 still cannot isolate alone", auto, tp(1), laptop, inv.ActionIsolate, Approve, "high impact"},
		{"unknown machine type with low impact", auto, tp(0.9), facts("windows", "unknown", "malicious", "connected"), inv.ActionKill, Auto, ""},
		{"storage counts as a server", auto, tp(0.99), facts("linux", "storage", "malicious", "connected"), inv.ActionQuarantine, Approve, "servers"},
		// Beyond the original table.
		{"suspicious verdict beats impact, as before", auto, inv.Analysis{Verdict: inv.VerdictSuspicious, Confidence: 0.99}, laptop, inv.ActionRemediate, Approve, "only suspicious"},
		{"isolating a server says high impact, as before", auto, tp(1), facts("windows", "server", "malicious", "connected"), inv.ActionIsolate, Approve, "high impact"},
		{"approve mode with a false positive still only recommends", Default(ModeApprove, 0.8), inv.Analysis{Verdict: inv.VerdictFalsePositive, Confidence: 1}, laptop, inv.ActionKill, Recommend, "false_positive"},
		{"off mode offers nothing", Default(ModeOff, 0.8), tp(1), laptop, inv.ActionKill, Skip, "mode is off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := decideOne(t, tc.p, Inputs{Analysis: tc.a, Facts: tc.f}, tc.action)
			assert.Equal(t, tc.want, st.Disposition, st.Reason)
			assert.Contains(t, st.Reason, tc.reason)
			assert.Equal(t, ImpactOf(tc.action), st.Impact)
			assert.Empty(t, st.Approvers, "Default has no roles")
		})
	}
}

func TestDecideOrdersAndDeduplicates(t *testing.T) {
	a := inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.9, RecommendedActions: []inv.Action{
		inv.ActionIsolate, inv.ActionKill, "format-disk", inv.ActionQuarantine, inv.ActionKill,
	}}
	plan := Decide(Default(ModeAuto, 0.8), Inputs{Analysis: a, Facts: facts("windows", "laptop", "malicious", "connected")})
	var got []inv.Action
	for _, s := range plan.Steps {
		got = append(got, s.Action)
	}
	assert.Equal(t, []inv.Action{inv.ActionKill, inv.ActionQuarantine, inv.ActionIsolate}, got, "canonical order, no duplicates, unknown actions dropped")
	assert.Equal(t, []inv.Action{inv.ActionKill, inv.ActionQuarantine}, plan.Actions(Auto))
	assert.Equal(t, []inv.Action{inv.ActionIsolate}, plan.Actions(Approve))
	assert.Contains(t, plan.PolicyVersion, "mode=auto")
	assert.Regexp(t, `^builtin-v2 mode=auto min-confidence=0\.80 \(sha256:[0-9a-f]{12}\)$`, plan.PolicyVersion)
}

func TestNoActionsMeansEmptyPlan(t *testing.T) {
	plan := Decide(Default(ModeAuto, 0), Inputs{Analysis: inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 1}, Facts: facts("windows", "laptop", "malicious", "connected")})
	assert.Empty(t, plan.Steps)
}

func TestNilPolicyOnlyRecommends(t *testing.T) {
	plan := Decide(nil, Inputs{Analysis: inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 1, RecommendedActions: inv.Actions}})
	assert.Len(t, plan.Steps, len(inv.Actions))
	assert.Len(t, plan.Actions(Recommend), len(inv.Actions))
	assert.Equal(t, "no policy", plan.PolicyVersion)
}

// A hand-built Policy{Mode, MinConfidence}, as the callers used to write, must not
// silently become "auto for every action": without a version it only recommends.
func TestUnversionedPolicyOnlyRecommends(t *testing.T) {
	plan := Decide(&Policy{Mode: ModeAuto, MinConfidence: 0.8}, Inputs{
		Analysis: inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 1, RecommendedActions: inv.Actions},
		Facts:    facts("windows", "laptop", "malicious", "connected"),
	})
	assert.Len(t, plan.Actions(Recommend), len(inv.Actions))
	assert.Contains(t, plan.Steps[0].Reason, "policy.Default")
}

func TestModeValid(t *testing.T) {
	for _, m := range []Mode{ModeAuto, ModeApprove, ModeRecommend, ModeOff} {
		assert.True(t, m.Valid())
	}
	assert.False(t, Mode("yolo").Valid())
	assert.False(t, Mode("").Valid())
}

func TestVersionStringOfDefault(t *testing.T) {
	a, b := Default(ModeAuto, 0.8), Default(ModeAuto, 0.8)
	assert.Equal(t, a.VersionString(), b.VersionString(), "deterministic")
	assert.NotEqual(t, a.VersionString(), Default(ModeApprove, 0.8).VersionString())
	assert.NotEqual(t, a.VersionString(), Default(ModeAuto, 0.9).VersionString())
	// A hand-built policy without a digest gets one from its content.
	hand := &Policy{Version: "hand", Mode: ModeApprove}
	v := hand.VersionString()
	assert.Regexp(t, `^hand \(sha256:[0-9a-f]{12}\)$`, v)
	hand.MinConfidence = 0.5
	assert.NotEqual(t, v, hand.VersionString())
}
