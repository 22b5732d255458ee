package evalset

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
)

func TestParseExpectRejectsBadLabels(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"missing", ``, "missing"},
		{"null", `null`, "missing"},
		{"unknown field", `{"verdict":"true_positive","actions":{"none":true},"why":"x","outcome":"mitigated"}`, "unknown field"},
		{"bad verdict", `{"verdict":"malicious","actions":{"none":true},"why":"x"}`, `verdict "malicious"`},
		{"bad alternative", `{"verdict":"suspicious","alsoAcceptable":["benign"],"actions":{"none":true},"why":"x"}`, `alsoAcceptable "benign"`},
		{"alternative repeats verdict", `{"verdict":"suspicious","alsoAcceptable":["suspicious"],"actions":{"none":true},"why":"x"}`, "repeated"},
		{"no why", `{"verdict":"suspicious","actions":{"none":true}}`, "why is empty"},
		{"no actions", `{"verdict":"suspicious","why":"x"}`, "actions is missing"},
		{"empty actions", `{"verdict":"suspicious","actions":{},"why":"x"}`, "no constraint"},
		{"none with required", `{"verdict":"suspicious","actions":{"none":true,"required":["kill"]},"why":"x"}`, "excludes"},
		{"bad action", `{"verdict":"true_positive","actions":{"required":["block"]},"why":"x"}`, `action "block"`},
		{"required and forbidden", `{"verdict":"true_positive","actions":{"required":["kill"],"forbidden":["kill"]},"why":"x"}`, "both required and forbidden"},
		{"trailing", `{"verdict":"true_positive","actions":{"none":true},"why":"x"} {}`, "trailing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseExpect(json.RawMessage(tc.raw))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseExpectValid(t *testing.T) {
	e, err := ParseExpect(json.RawMessage(`{"verdict":"suspicious","alsoAcceptable":["false_positive"],"actions":{"none":true},"why":"pentest host"}`))
	require.NoError(t, err)
	assert.Equal(t, []investigation.Verdict{"suspicious", "false_positive"}, e.Verdicts())
	assert.Equal(t, "suspicious|false_positive, no action", e.String())
}

func TestScore(t *testing.T) {
	const (
		K, Q, R, RB, I = investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionRemediate, investigation.ActionRollback, investigation.ActionIsolate
		TP, S, FP, U   = investigation.VerdictTruePositive, investigation.VerdictSuspicious, investigation.VerdictFalsePositive, investigation.VerdictUndetermined
	)
	acts := func(a ...investigation.Action) []investigation.Action { return a }
	for _, tc := range []struct {
		name      string
		expect    Expect
		verdict   investigation.Verdict
		actions   []investigation.Action
		verdictOK bool
		actionsOK bool
		missing   []investigation.Action
		unwanted  []investigation.Action
	}{
		{"exact verdict, required present", Expect{Verdict: TP, Actions: &ActionExpect{Required: acts(K, Q)}}, TP, acts(K, Q, I), true, true, nil, nil},
		{"wrong verdict", Expect{Verdict: TP, Actions: &ActionExpect{Required: acts(K)}}, S, acts(K), false, true, nil, nil},
		{"alternative verdict accepted", Expect{Verdict: S, AlsoAcceptable: []investigation.Verdict{FP}, Actions: &ActionExpect{None: true}}, FP, nil, true, true, nil, nil},
		{"verdict outside alternatives", Expect{Verdict: S, AlsoAcceptable: []investigation.Verdict{FP}, Actions: &ActionExpect{None: true}}, U, nil, false, true, nil, nil},
		{"required missing", Expect{Verdict: TP, Actions: &ActionExpect{Required: acts(K, I)}}, TP, acts(K, Q), true, false, acts(I), nil},
		{"forbidden present", Expect{Verdict: TP, Actions: &ActionExpect{Required: acts(K), Forbidden: acts(Q, RB)}}, TP, acts(K, Q, R), true, false, nil, acts(Q)},
		{"missing and forbidden", Expect{Verdict: TP, Actions: &ActionExpect{Required: acts(I), Forbidden: acts(Q)}}, TP, acts(K, Q), true, false, acts(I), acts(Q)},
		{"none: any action is unwanted", Expect{Verdict: FP, Actions: &ActionExpect{None: true}}, FP, acts(K, K, Q), true, false, nil, acts(K, Q)},
		{"none: no action is right", Expect{Verdict: FP, Actions: &ActionExpect{None: true}}, S, nil, false, true, nil, nil},
		{"forbidden only, nothing recommended", Expect{Verdict: S, Actions: &ActionExpect{Forbidden: acts(I)}}, S, nil, true, true, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.expect.Score(investigation.Analysis{Verdict: tc.verdict, RecommendedActions: tc.actions})
			assert.Equal(t, tc.verdictOK, s.VerdictOK, "verdict")
			assert.Equal(t, tc.actionsOK, s.ActionsOK, "actions")
			assert.Equal(t, tc.missing, s.Missing, "missing")
			assert.Equal(t, tc.unwanted, s.Unwanted, "unwanted")
			assert.Equal(t, tc.verdictOK && tc.actionsOK, s.OK())
		})
	}
}
