package guard_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
)

// A model may not read a threat lower than SentinelOne rates it, nor lower than the
// rules engine on the same evidence; higher, or the same, is not a disagreement.
func TestDisagreement(t *testing.T) {
	an := func(v investigation.Verdict) investigation.Analysis {
		return investigation.Analysis{Verdict: v, Confidence: 1, Analyzer: "openai:test", Summary: "Approved admin tool.",
			AttackTimeline: []investigation.AttackStep{{Step: "s", Evidence: "publisher: Contoso"}}}
	}
	tp, susp, fp, und := investigation.VerdictTruePositive, investigation.VerdictSuspicious, investigation.VerdictFalsePositive, investigation.VerdictUndetermined
	for _, tc := range []struct {
		name         string
		s1           string
		model, rules investigation.Verdict
		want         string // "" = no disagreement
	}{
		{"malicious whitewashed", "malicious", fp, tp, "the model contradicts SentinelOne's rating (malicious)"},
		{"malicious called suspicious", "malicious", susp, tp, "the model contradicts SentinelOne's rating (malicious)"},
		{"malicious called undetermined", "malicious", und, susp, "the model contradicts SentinelOne's rating (malicious)"},
		{"malicious agreed", "malicious", tp, tp, ""},
		{"suspicious called benign", "suspicious", fp, susp, "the model contradicts SentinelOne's rating (suspicious)"},
		{"suspicious upgraded", "suspicious", tp, susp, ""},
		{"below the rules only", "suspicious", susp, tp, "the model contradicts the rules engine"},
		{"no rating, below the rules", "", fp, susp, "the model contradicts the rules engine"},
		{"no rating, as the rules", "", susp, susp, ""},
		{"the rules find it benign, S1 does not", "suspicious", fp, fp, "the model contradicts SentinelOne's rating (suspicious)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := guard.Disagreement(investigation.ThreatFacts{ConfidenceLevel: tc.s1}, an(tc.model), an(tc.rules))
			if tc.want == "" {
				assert.Nil(t, d)
				return
			}
			require.NotNil(t, d)
			assert.Contains(t, d.Reason, tc.want)
			assert.Contains(t, d.Reason, "a human decides")
			assert.Equal(t, tc.model, d.Model.Verdict)
			assert.Equal(t, tc.rules, d.RulesVerdict)
			assert.Equal(t, []string{"publisher: Contoso"}, d.Model.Evidence)
		})
	}
}
