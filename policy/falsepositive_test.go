package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	inv "github.com/s1copilot/s1copilot/investigation"
)

// Whatever an analysis says besides (actions, confidence 1, S1 rating malicious, a
// workstation) and whatever the policy says (even a rule that asks for it), a false
// positive is never acted on alone, and never waits for an approval that would act.
func TestFalsePositiveIsNeverActedOn(t *testing.T) {
	eager, err := Parse([]byte(`
version: eager
mode: auto
minConfidence: 0
roles: {analyst: [a@example.com]}
rules:
  - name: act on everything
    when: {verdicts: [false_positive, true_positive], s1Confidence: [malicious, suspicious, n/a]}
    mode: auto
`), "eager.yaml")
	require.NoError(t, err)
	policies := map[string]*Policy{
		"default auto":    Default(ModeAuto, 0),
		"default approve": Default(ModeApprove, 0),
		"example":         ExamplePolicy(),
		"eager":           eager,
	}
	fp := inv.Analysis{Verdict: inv.VerdictFalsePositive, Confidence: 1, Priority: inv.PriorityCritical,
		Summary: "benign", Analyzer: "openai:m", RecommendedActions: inv.Actions}
	for name, p := range policies {
		for _, machine := range []string{"desktop", "laptop", "server", "kubernetes pod"} {
			for _, s1 := range []string{"malicious", "suspicious", "n/a"} {
				plan := Decide(p, Inputs{Analysis: fp, Facts: facts("windows", machine, s1, "connected")})
				assert.Len(t, plan.Steps, len(inv.Actions))
				assert.Empty(t, plan.Actions(Auto), "%s %s %s", name, machine, s1)
				assert.Empty(t, plan.Actions(Approve), "%s %s %s", name, machine, s1)
			}
		}
	}
}
