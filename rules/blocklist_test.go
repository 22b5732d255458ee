package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/investigation"
)

// A blocklist hit is the customer's own verdict on that hash: a true positive, killed
// and quarantined, whatever SentinelOne's confidence and whatever benign story the
// file could tell.
func TestBlocklistHitIsTruePositive(t *testing.T) {
	for _, conf := range []string{"malicious", "suspicious", "n/a", ""} {
		for _, engines := range [][]string{{"User-Defined Blocklist"}, {"Reputation", "user_blacklist"}} {
			a := analyze(t, desktop(investigation.ThreatFacts{ThreatName: "tool.exe", FilePath: `C:\Users\a\Downloads\tool.exe`,
				ConfidenceLevel: conf, Engines: engines}))
			assert.Equal(t, truePositive, a.Verdict, "%q %v", conf, engines)
			assert.Equal(t, acts(kill, quarantine), a.RecommendedActions)
			assert.Contains(t, a.Rules, Blocklist)
			assert.Contains(t, a.Summary, "blocklist")
		}
	}

	// The customer banned signed software: the ban stands over the vendor's story and
	// over the PUA hygiene rule.
	banned := desktop(investigation.ThreatFacts{ThreatName: "TeamViewer.exe", Classification: "PUA", ConfidenceLevel: "suspicious",
		FilePath: `C:\Program Files\TeamViewer\TeamViewer.exe`, FileVerificationType: "SignedVerified", PublisherName: "TeamViewer Germany GmbH",
		OriginatorProcess: "services.exe", Engines: []string{"User-Defined Blocklist"}})
	a := analyze(t, banned)
	assert.Equal(t, truePositive, a.Verdict)
	assert.Equal(t, acts(kill, quarantine), a.RecommendedActions)
	assert.Contains(t, a.Summary, "set aside: the customer blocklisted this file")
}
