package evalset

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
)

func TestScore(t *testing.T) {
	const (
		K, Q, R, RB, I = investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionRemediate, investigation.ActionRollback, investigation.ActionIsolate
		TP, S, FP, U   = investigation.VerdictTruePositive, investigation.VerdictSuspicious, investigation.VerdictFalsePositive, investigation.VerdictUndetermined
	)
	acts := func(a ...investigation.Action) []investigation.Action { return a }
	for _, tc := range []struct {
		name      string
		expect    feedback.Expect
		verdict   investigation.Verdict
		actions   []investigation.Action
		verdictOK bool
		actionsOK bool
		missing   []investigation.Action
		unwanted  []investigation.Action
	}{
		{"exact verdict, required present", feedback.Expect{Verdict: TP, Actions: &feedback.ActionExpect{Required: acts(K, Q)}}, TP, acts(K, Q, I), true, true, nil, nil},
		{"wrong verdict", feedback.Expect{Verdict: TP, Actions: &feedback.ActionExpect{Required: acts(K)}}, S, acts(K), false, true, nil, nil},
		{"alternative verdict accepted", feedback.Expect{Verdict: S, AlsoAcceptable: []investigation.Verdict{FP}, Actions: &feedback.ActionExpect{None: true}}, FP, nil, true, true, nil, nil},
		{"verdict outside alternatives", feedback.Expect{Verdict: S, AlsoAcceptable: []investigation.Verdict{FP}, Actions: &feedback.ActionExpect{None: true}}, U, nil, false, true, nil, nil},
		{"required missing", feedback.Expect{Verdict: TP, Actions: &feedback.ActionExpect{Required: acts(K, I)}}, TP, acts(K, Q), true, false, acts(I), nil},
		{"forbidden present", feedback.Expect{Verdict: TP, Actions: &feedback.ActionExpect{Required: acts(K), Forbidden: acts(Q, RB)}}, TP, acts(K, Q, R), true, false, nil, acts(Q)},
		{"missing and forbidden", feedback.Expect{Verdict: TP, Actions: &feedback.ActionExpect{Required: acts(I), Forbidden: acts(Q)}}, TP, acts(K, Q), true, false, acts(I), acts(Q)},
		{"none: any action is unwanted", feedback.Expect{Verdict: FP, Actions: &feedback.ActionExpect{None: true}}, FP, acts(K, K, Q), true, false, nil, acts(K, Q)},
		{"none: no action is right", feedback.Expect{Verdict: FP, Actions: &feedback.ActionExpect{None: true}}, S, nil, false, true, nil, nil},
		{"forbidden only, nothing recommended", feedback.Expect{Verdict: S, Actions: &feedback.ActionExpect{Forbidden: acts(I)}}, S, nil, true, true, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Grade(tc.expect, investigation.Analysis{Verdict: tc.verdict, RecommendedActions: tc.actions})
			assert.Equal(t, tc.verdictOK, s.VerdictOK, "verdict")
			assert.Equal(t, tc.actionsOK, s.ActionsOK, "actions")
			assert.Equal(t, tc.missing, s.Missing, "missing")
			assert.Equal(t, tc.unwanted, s.Unwanted, "unwanted")
			assert.Equal(t, tc.verdictOK && tc.actionsOK, s.OK())
		})
	}
}
