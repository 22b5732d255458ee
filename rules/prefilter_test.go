package rules

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/investigation"
)

func TestPreFilter(t *testing.T) {
	pua := investigation.ThreatFacts{ThreatName: "SearchBarPlusSetup.exe", Classification: "PUA", ConfidenceLevel: "suspicious",
		FileVerificationType: "SignedVerified", OSType: "windows", MachineType: "desktop"}
	for name, tc := range map[string]struct {
		facts   investigation.ThreatFacts
		ok      bool
		verdict investigation.Verdict
	}{
		"signed PUA":                    {pua, true, investigation.VerdictSuspicious},
		"signed PUA rated malicious":    {func() investigation.ThreatFacts { f := pua; f.ConfidenceLevel = "malicious"; return f }(), false, ""},
		"unsigned PUA":                  {func() investigation.ThreatFacts { f := pua; f.FileVerificationType = "NotSigned"; return f }(), false, ""},
		"blocklist hit":                 {investigation.ThreatFacts{ThreatName: "x.exe", ConfidenceLevel: "malicious", Engines: []string{"User-Defined Blocklist"}, OSType: "windows"}, true, investigation.VerdictTruePositive},
		"blocklist key":                 {investigation.ThreatFacts{ThreatName: "x.exe", ConfidenceLevel: "malicious", Engines: []string{"user_blacklist"}, OSType: "linux"}, true, investigation.VerdictTruePositive},
		"blocklist, S1 only suspicious": {investigation.ThreatFacts{ThreatName: "x.exe", ConfidenceLevel: "suspicious", Engines: []string{"User-Defined Blocklist"}}, true, investigation.VerdictTruePositive},
		"blocklist, no S1 verdict":      {investigation.ThreatFacts{ThreatName: "x.exe", ConfidenceLevel: "n/a", Engines: []string{"User-Defined Blocklist"}}, true, investigation.VerdictTruePositive},
		"malicious, other engine":       {investigation.ThreatFacts{ThreatName: "x.exe", ConfidenceLevel: "malicious", Engines: []string{"Behavioral AI"}}, false, ""},
	} {
		t.Run(name, func(t *testing.T) {
			an, why, ok := PreFilter(context.Background(), investigation.Evidence{Facts: tc.facts})
			assert.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.NotEmpty(t, why)
				assert.Equal(t, tc.verdict, an.Verdict)
				assert.NoError(t, an.Validate())
				assert.NotEqual(t, investigation.VerdictFalsePositive, an.Verdict)
			}
		})
	}
}
