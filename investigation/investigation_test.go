package investigation

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validAnalysis() Analysis {
	return Analysis{
		Verdict: VerdictTruePositive, Confidence: 0.9, Priority: PriorityHigh, Summary: "s",
		RecommendedActions: []Action{ActionKill, ActionIsolate}, MITRETechniques: []string{"T1059.001"},
		Analyzer: "openai:m",
	}
}

// An analysis recorded in Temporal history before the new fields existed still
// decodes and validates, and one without them encodes as before.
func TestAnalysisJSONCompatibility(t *testing.T) {
	old := `{"verdict":"true_positive","confidence":0.9,"priority":"High","summary":"s",` +
		`"recommendedActions":["kill","isolate"],"mitreTechniques":["T1059.001"],"analyzer":"rules","rules":["s1-malicious"]}`
	var a Analysis
	require.NoError(t, json.Unmarshal([]byte(old), &a))
	require.NoError(t, a.Validate())
	assert.Nil(t, a.AttackTimeline)
	assert.Nil(t, a.ActionReasons)
	assert.Nil(t, a.OpenQuestions)
	assert.False(t, a.Corrected)

	b, err := json.Marshal(a)
	require.NoError(t, err)
	assert.JSONEq(t, old, string(b), "the new fields are omitted when empty")

	a.AttackTimeline = []AttackStep{{Step: "Word ran PowerShell", Evidence: "commandLine", Technique: "T1059.001"}, {Step: "x", Evidence: "y"}}
	a.ActionReasons = []ActionReason{{Action: ActionKill, Reason: "r1"}, {Action: ActionIsolate, Reason: "r2"}}
	a.OpenQuestions = []string{"who opened it?"}
	a.Corrected, a.CorrectionNote = true, "first answer rejected: x"
	b, err = json.Marshal(a)
	require.NoError(t, err)
	for _, k := range []string{`"attackTimeline":[{"step":"Word ran PowerShell","evidence":"commandLine","technique":"T1059.001"},{"step":"x","evidence":"y"}]`,
		`"actionReasons":[{"action":"kill","reason":"r1"},{"action":"isolate","reason":"r2"}]`,
		`"openQuestions":["who opened it?"]`, `"corrected":true`, `"correctionNote":"first answer rejected: x"`} {
		assert.Contains(t, string(b), k)
	}
	var back Analysis
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, a, back)
}

func TestValidateNewFields(t *testing.T) {
	tests := []struct {
		name string
		edit func(a *Analysis)
		want []string // empty: valid
	}{
		{name: "none of the new fields", edit: func(a *Analysis) {}},
		{name: "complete reasons", edit: func(a *Analysis) {
			a.ActionReasons = []ActionReason{{ActionIsolate, "spread"}, {ActionKill, "stop"}}
			a.AttackTimeline = []AttackStep{{Step: "s", Evidence: "e"}}
			a.OpenQuestions = []string{"q"}
		}},
		{name: "no actions, no reasons", edit: func(a *Analysis) { a.RecommendedActions = nil }},
		{name: "missing reason", edit: func(a *Analysis) { a.ActionReasons = []ActionReason{{ActionKill, "stop"}} },
			want: []string{`recommended action "isolate" has no action reason`}},
		{name: "two reasons for one action", edit: func(a *Analysis) {
			a.ActionReasons = []ActionReason{{ActionKill, "a"}, {ActionKill, "b"}, {ActionIsolate, "c"}}
		}, want: []string{`recommended action "kill" has 2 action reasons, want exactly one`}},
		{name: "reason for an action not recommended, and an unknown one", edit: func(a *Analysis) {
			a.ActionReasons = []ActionReason{{ActionKill, "a"}, {ActionIsolate, "c"}, {ActionRollback, "d"}, {"wipe", "e"}}
		}, want: []string{`action reason for "rollback", which is not a recommended action`, `action reason for "wipe", which is not one of`}},
		{name: "empty reason", edit: func(a *Analysis) { a.ActionReasons = []ActionReason{{ActionKill, " "}, {ActionIsolate, "c"}} },
			want: []string{`the reason for action "kill" is empty`}},
		{name: "bad steps", edit: func(a *Analysis) {
			a.AttackTimeline = []AttackStep{{Step: "ok", Evidence: "ok"}, {Step: "", Evidence: " ", Technique: "T59"}}
		}, want: []string{"attack timeline step 2 is empty", "attack timeline step 2 cites no evidence", `step 2: MITRE technique "T59"`}},
		{name: "empty question", edit: func(a *Analysis) { a.OpenQuestions = []string{"q", ""} }, want: []string{"open question 2 is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validAnalysis()
			tt.edit(&a)
			err := a.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				assert.Empty(t, a.Problems())
				return
			}
			require.Error(t, err)
			assert.Len(t, a.Problems(), len(tt.want), strings.Join(a.Problems(), " | "))
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestReasonFor(t *testing.T) {
	a := validAnalysis()
	a.ActionReasons = []ActionReason{{ActionKill, "stop"}}
	assert.Equal(t, "stop", a.ReasonFor(ActionKill))
	assert.Empty(t, a.ReasonFor(ActionIsolate))
}

func TestTechniqueIDs(t *testing.T) {
	got := TechniqueIDs([]string{"T1059.001", "t1486", "Phishing", "T1566 - Phishing", "T12345", "T1059.01", "T1059.001"})
	assert.Equal(t, []string{"T1059.001", "T1486", "T1566"}, got)
}

func TestPriorityRank(t *testing.T) {
	assert.Equal(t, []int{3, 2, 1, 0}, []int{PriorityCritical.Rank(), PriorityHigh.Rank(), PriorityMedium.Rank(), PriorityLow.Rank()})
	assert.Equal(t, PriorityLow.Rank(), Priority("urgent").Rank(), "an invalid priority ranks with Low")
}

func TestPathOnVolume(t *testing.T) {
	for in, want := range map[string]string{
		`\Device\HarddiskVolume2\Windows\System32\cmd.exe`: "/Windows/System32/cmd.exe",
		`C:\Windows\System32\cmd.exe`:                      "/Windows/System32/cmd.exe",
		`c:/windows/system32/cmd.exe`:                      "/windows/system32/cmd.exe",
		`\\?\C:\Program Files\App\app.exe`:                 "/Program Files/App/app.exe",
		`\??\C:\Windows\Temp\x.sys`:                        "/Windows/Temp/x.sys",
		`\\FAB-FS-01\share\x.exe`:                          "//FAB-FS-01/share/x.exe",
		"/tmp/.x/xmrig":                                    "/tmp/.x/xmrig",
		"":                                                 "",
		`\Device\Mup`:                                      "/",
	} {
		assert.Equal(t, want, PathOnVolume(in), in)
	}
}
