package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"

	inv "github.com/s1copilot/s1copilot/investigation"
)

func facts(os, machine, s1conf, net string) inv.ThreatFacts {
	return inv.ThreatFacts{ThreatID: "t", AgentID: "a", OSType: os, MachineType: machine, ConfidenceLevel: s1conf, NetworkStatus: net}
}

func TestDecide(t *testing.T) {
	auto := Policy{Mode: ModeAuto, MinConfidence: 0.8}
	tp := func(conf float64) inv.Analysis {
		return inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: conf}
	}
	laptop := facts("windows", "laptop", "malicious", "connected")
	for _, tc := range []struct {
		name   string
		p      Policy
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
		{"recommend mode never acts", Policy{Mode: ModeRecommend, MinConfidence: 0.8}, tp(1), laptop, inv.ActionKill, Recommend, "mode is recommend"},
		{"approve mode asks for everything", Policy{Mode: ModeApprove, MinConfidence: 0.8}, tp(1), laptop, inv.ActionKill, Approve, "mode is approve"},
		{"rollback on linux is not applicable", auto, tp(1), facts("linux", "server", "malicious", "connected"), inv.ActionRollback, Skip, "Windows"},
		{"rollback on macos is not applicable", auto, tp(1), facts("macos", "laptop", "malicious", "connected"), inv.ActionRollback, Skip, "Windows"},
		{"rollback on legacy windows is offered", auto, tp(1), facts("windows_legacy", "desktop", "malicious", "connected"), inv.ActionRollback, Approve, "high impact"},
		{"remediate on linux is not supported", auto, tp(1), facts("linux", "desktop", "malicious", "connected"), inv.ActionRemediate, Skip, "Linux"},
		{"remediate on macos is offered", auto, tp(1), facts("macos", "laptop", "malicious", "connected"), inv.ActionRemediate, Approve, "medium"},
		{"already isolated", auto, tp(1), facts("windows", "laptop", "malicious", "disconnected"), inv.ActionIsolate, Skip, "already isolated"},
		{"isolation in progress", auto, tp(1), facts("windows", "laptop", "malicious", "disconnecting"), inv.ActionIsolate, Skip, "already isolated"},
		{"applicability beats recommend mode", Policy{Mode: ModeRecommend}, tp(1), facts("linux", "server", "malicious", "connected"), inv.ActionRollback, Skip, "Windows"},
		{"confidence 1.0 still cannot isolate alone", auto, tp(1), laptop, inv.ActionIsolate, Approve, "high impact"},
		{"unknown machine type with low impact", auto, tp(0.9), facts("windows", "unknown", "malicious", "connected"), inv.ActionKill, Auto, ""},
		{"storage counts as a server", auto, tp(0.99), facts("linux", "storage", "malicious", "connected"), inv.ActionQuarantine, Approve, "servers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.a.RecommendedActions = []inv.Action{tc.action}
			plan := Decide(tc.p, tc.a, tc.f)
			if !assert.Len(t, plan.Steps, 1) {
				return
			}
			st := plan.Steps[0]
			assert.Equal(t, tc.want, st.Disposition, st.Reason)
			assert.Contains(t, st.Reason, tc.reason)
			assert.Equal(t, ImpactOf(tc.action), st.Impact)
		})
	}
}

func TestDecideOrdersAndDeduplicates(t *testing.T) {
	a := inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.9, RecommendedActions: []inv.Action{
		inv.ActionIsolate, inv.ActionKill, "format-disk", inv.ActionQuarantine, inv.ActionKill,
	}}
	plan := Decide(Policy{Mode: ModeAuto, MinConfidence: 0.8}, a, facts("windows", "laptop", "malicious", "connected"))
	var got []inv.Action
	for _, s := range plan.Steps {
		got = append(got, s.Action)
	}
	assert.Equal(t, []inv.Action{inv.ActionKill, inv.ActionQuarantine, inv.ActionIsolate}, got, "canonical order, no duplicates, unknown actions dropped")
	assert.Equal(t, []inv.Action{inv.ActionKill, inv.ActionQuarantine}, plan.Actions(Auto))
	assert.Equal(t, []inv.Action{inv.ActionIsolate}, plan.Actions(Approve))
	assert.Contains(t, plan.PolicyVersion, "mode=auto")
}

func TestNoActionsMeansEmptyPlan(t *testing.T) {
	plan := Decide(Policy{Mode: ModeAuto}, inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 1}, facts("windows", "laptop", "malicious", "connected"))
	assert.Empty(t, plan.Steps)
}

func TestModeValid(t *testing.T) {
	for _, m := range []Mode{ModeAuto, ModeApprove, ModeRecommend} {
		assert.True(t, m.Valid())
	}
	assert.False(t, Mode("yolo").Valid())
}
