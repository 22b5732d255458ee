package rules

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
)

// analyze runs the rules on f, checks the analysis is valid and that a false positive
// carries no action, and returns it.
func analyze(t *testing.T, f investigation.ThreatFacts, timeline ...investigation.TimelineItem) investigation.Analysis {
	t.Helper()
	a, err := New().Analyze(context.Background(), investigation.Evidence{Facts: f, Timeline: timeline})
	require.NoError(t, err)
	require.NoError(t, a.Validate())
	if a.Verdict != investigation.VerdictTruePositive {
		require.Empty(t, a.RecommendedActions, "only a true positive is contained")
	}
	return a
}

// desktop is a threat on an ordinary Windows desktop; fields are filled in by the tests.
func desktop(f investigation.ThreatFacts) investigation.ThreatFacts {
	f.ThreatID = "1"
	if f.ThreatName == "" {
		f.ThreatName = "sample.exe"
	}
	if f.AgentName == "" {
		f.AgentName = "OPS-DT-031"
	}
	if f.OSType == "" {
		f.OSType = "windows"
	}
	if f.MachineType == "" {
		f.MachineType = "desktop"
	}
	f.NetworkStatus = "connected"
	return f
}

func server(f investigation.ThreatFacts) investigation.ThreatFacts {
	f.MachineType = "server"
	return desktop(f)
}

func acts(a ...investigation.Action) []investigation.Action { return a }

const (
	kill       = investigation.ActionKill
	quarantine = investigation.ActionQuarantine
	remediate  = investigation.ActionRemediate
	rollback   = investigation.ActionRollback
	isolate    = investigation.ActionIsolate
	forensics  = investigation.ActionCollectForensics

	truePositive = investigation.VerdictTruePositive
	falsePos     = investigation.VerdictFalsePositive
	suspicious   = investigation.VerdictSuspicious
)
