package activities_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
)

// readSample reads a file of ../shared/reference/s1-samples beside the repository.
func readSample(t *testing.T, name string) []byte {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "reference", "s1-samples", name)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("S1 sample %s not found (expected ../shared beside the repo)", path)
	}
	require.NoError(t, err)
	return b
}

// The real agent record carries one mode for malicious threats and one for suspicious
// ones (mitigationMode protect, mitigationModeSuspicious detect in the sample): the facts
// keep the one that applied to the threat.
func TestMergeAgentMitigationModeFromRealSample(t *testing.T) {
	var agents []s1client.Agent
	require.NoError(t, json.Unmarshal(readSample(t, "demisto_agents_raw_response.json"), &agents))
	require.NotEmpty(t, agents)
	ag := agents[0]
	require.Equal(t, "protect", ag.MitigationMode)
	require.Equal(t, "detect", ag.MitigationModeSuspicious)

	malicious := investigation.ThreatFacts{ConfidenceLevel: "malicious"}
	activities.MergeAgent(&malicious, ag)
	assert.Equal(t, "protect", malicious.MitigationMode)

	suspicious := investigation.ThreatFacts{ConfidenceLevel: "suspicious", MitigationMode: "protect"}
	activities.MergeAgent(&suspicious, ag)
	assert.Equal(t, "detect", suspicious.MitigationMode, "a suspicious threat follows the suspicious mode: the agent did not act")

	atDetection := investigation.ThreatFacts{ConfidenceLevel: "malicious", MitigationMode: "detect"}
	activities.MergeAgent(&atDetection, ag)
	assert.Equal(t, "detect", atDetection.MitigationMode, "the mode at detection decided whether the agent acted")
}

func TestThreatFactsMitigationModeAndFileless(t *testing.T) {
	const payload = `{
	  "id": "1910000000000000043",
	  "threatInfo": {"threatName": "powershell.exe", "confidenceLevel": "malicious", "isFileless": "True",
	    "filePath": "\\Device\\HarddiskVolume2\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"},
	  "agentRealtimeInfo": {"agentId": "1900000000000000002", "agentMitigationMode": "protect"},
	  "agentDetectionInfo": {"agentMitigationMode": "detect"},
	  "mitigationStatus": [{"action": "kill", "status": "success"}]
	}`
	var th s1client.Threat
	require.NoError(t, json.Unmarshal([]byte(payload), &th))
	f := activities.ThreatFacts(th)
	assert.True(t, f.IsFileless)
	assert.Equal(t, "detect", f.MitigationMode, "the mode at detection wins over today's")
	assert.Equal(t, []string{"kill:success"}, f.Mitigations)

	th.AgentDetectionInfo.AgentMitigationMode = ""
	assert.Equal(t, "protect", activities.ThreatFacts(th).MitigationMode)
}
