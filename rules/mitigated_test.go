package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

// What SentinelOne's agent already did is not recommended again; what it did not do,
// or failed to do, still is.
func TestActionsAlreadyDoneAreNotRecommended(t *testing.T) {
	ransom := investigationtest.RansomwareServer().Facts
	require := func(f investigation.ThreatFacts, want []investigation.Action, inSummary string, timeline ...investigation.TimelineItem) {
		t.Helper()
		a := analyze(t, f, timeline...)
		assert.Equal(t, want, a.RecommendedActions)
		assert.Contains(t, a.Summary, inSummary)
	}

	f := ransom
	f.Mitigations = []string{"kill:success", "quarantine:success"}
	require(f, acts(remediate, rollback, isolate, forensics), "kill (already done: mitigationStatus kill:success)")

	f.Mitigations = []string{"kill:failed", "quarantine:pending-reboot"}
	require(f, acts(kill, remediate, rollback, isolate, forensics), "quarantine (already done")

	f = ransom
	f.Mitigations = []string{"network_quarantine:success"}
	require(f, acts(kill, quarantine, remediate, rollback, forensics), "isolate (already done")

	at := investigationtest.Detected.Add(time.Minute)
	require(ransom, acts(kill, remediate, rollback, isolate, forensics), "quarantine (already done: activity 2024",
		investigation.TimelineItem{At: at, ActivityType: 2024, Description: "Threat quarantined by policy"})

	f = ransom
	f.MitigationStatus = "mitigated"
	require(f, acts(remediate, rollback, isolate, forensics), "SentinelOne reports the threat mitigated")

	f = ransom
	f.NetworkStatus = "disconnected"
	require(f, acts(kill, quarantine, remediate, rollback, forensics), "isolate (the agent is already disconnected)")

	// A threat SentinelOne contained entirely leaves nothing to recommend.
	done := investigationtest.MacroDropper().Facts
	done.Mitigations = []string{"kill:success", "quarantine:success", "network_quarantine:success"}
	a := analyze(t, done)
	assert.Equal(t, investigation.VerdictTruePositive, a.Verdict)
	assert.Empty(t, a.RecommendedActions)
}

// In detect mode SentinelOne only reported the threat: containment is ours, and the
// note says so.
func TestDetectModeLeavesContainmentToUs(t *testing.T) {
	f := investigationtest.MacroDropper().Facts
	f.MitigationMode = "detect"
	a := analyze(t, f)
	assert.Equal(t, acts(kill, quarantine, isolate), a.RecommendedActions)
	assert.Contains(t, a.Summary, "detect mode: SentinelOne only reported this threat, so containment is left to us")

	f.MitigationMode = "protect"
	assert.NotContains(t, analyze(t, f).Summary, "detect mode")
}
