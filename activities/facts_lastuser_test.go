package activities_test

import (
	"bytes"
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

// The last logged-in user comes from the threat's agentDetectionInfo (who was
// logged in when it ran) and, when that is empty, from the agent record.
func TestThreatFactsLastLoggedInUser(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "s1client", "testdata", "threats_page.json"))
	require.NoError(t, err)
	var page struct{ Data []s1client.Threat }
	require.NoError(t, json.Unmarshal(raw, &page))
	require.Len(t, page.Data, 1)
	f := activities.ThreatFacts(page.Data[0])
	assert.Equal(t, "Administrator", f.LastLoggedInUser, "agentDetectionInfo.agentLastLoggedInUserName")

	activities.MergeAgent(&f, s1client.Agent{LastLoggedInUserName: `FABRIKAM\later`})
	assert.Equal(t, "Administrator", f.LastLoggedInUser, "the user at detection is kept")
}

// A real GET /agents record (shared/reference/s1-samples) decodes into the field
// when the threat did not carry it. The sample's user is empty, so the test
// fills that same key of the real body.
func TestMergeAgentLastLoggedInUserFromRealSample(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "reference", "s1-samples")
	raw, err := os.ReadFile(filepath.Join(dir, "demisto_agents_raw_response.json"))
	if os.IsNotExist(err) {
		t.Skipf("S1 samples not found at %s (expected ../shared beside the repo)", dir)
	}
	require.NoError(t, err)
	const key = `"lastLoggedInUserName": ""`
	require.Equal(t, 1, bytes.Count(raw, []byte(key)), "the real agent record has the key")
	raw = bytes.Replace(raw, []byte(key), []byte(`"lastLoggedInUserName": "CONTOSO\\jdoe"`), 1)

	var agents []s1client.Agent
	require.NoError(t, json.Unmarshal(raw, &agents))
	require.Len(t, agents, 1)
	var f investigation.ThreatFacts
	activities.MergeAgent(&f, agents[0])
	assert.Equal(t, `CONTOSO\jdoe`, f.LastLoggedInUser)
	assert.Equal(t, "EC2AMAZ-AJ0KANC", f.AgentName, "the rest of the record still maps")
}
