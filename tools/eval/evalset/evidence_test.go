package evalset

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/scenario"
)

// A labeled threat can carry what the agent already did and the agent's mitigation
// mode: both reach the evidence as EnrichThreat reads it, and the rules act on them.
func TestEvidenceCarriesMitigationsAndMode(t *testing.T) {
	sc, err := scenario.LoadFile(filepath.Join(scenarioDir, "ransomware.json"))
	require.NoError(t, err)
	sc.Threats = sc.Threats[:1]
	sc.Threats[0].MitigationStatus = "mitigated"
	sc.Threats[0].Mitigations = []scenario.Mitigation{{Action: "kill", Status: "success"}, {Action: "quarantine", Status: "success"}}
	for i := range sc.Agents {
		sc.Agents[i].MitigationMode = "detect"
	}
	f := &File{Name: "t.json", Scenario: sc, Cases: []Case{{ThreatID: sc.Threats[0].ID}}}
	evs, err := CollectEvidence(context.Background(), f)
	require.NoError(t, err)
	facts := evs[0].Facts
	assert.Equal(t, []string{"kill:success", "quarantine:success"}, facts.Mitigations)
	assert.Equal(t, "detect", facts.MitigationMode)

	a, err := rules.New().Analyze(context.Background(), evs[0])
	require.NoError(t, err)
	assert.Equal(t, investigation.VerdictTruePositive, a.Verdict)
	assert.NotContains(t, a.RecommendedActions, investigation.ActionKill)
	assert.NotContains(t, a.RecommendedActions, investigation.ActionQuarantine)
	assert.Contains(t, a.RecommendedActions, investigation.ActionIsolate)
}
