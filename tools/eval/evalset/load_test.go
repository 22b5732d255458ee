package evalset

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/scenario"
)

const scenarioDir = "../scenarios"

// Every file is a valid simulator scenario and every threat has a valid label.
func TestScenarioFilesParseAndAreLabeled(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(scenarioDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	ids := map[string]string{}
	total := 0
	for _, p := range paths {
		sc, err := scenario.LoadFile(p)
		require.NoError(t, err, p)
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		_, err = scenario.Parse(raw)
		require.NoError(t, err, p)
		for _, th := range sc.Threats {
			_, err := feedback.ParseExpect(th.Expect)
			assert.NoError(t, err, "%s threat %s", p, th.ID)
			if prev, dup := ids[th.ID]; dup {
				t.Errorf("threat %s is in %s and %s", th.ID, prev, p)
			}
			ids[th.ID] = p
			total++
		}
	}
	assert.GreaterOrEqual(t, total, 150, "labeled threats")

	files, err := LoadDir(scenarioDir)
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		n += len(f.Cases)
	}
	assert.Equal(t, total, n)
}

func TestLoadDirReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(scenarioDir, "ambiguous.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.json"), good, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.json"), good, 0o600)) // same threat IDs
	bad := strings.Replace(string(good), `"verdict": "undetermined"`, `"verdict": "benign"`, 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.json"), []byte(bad), 0o600))
	_, err = LoadDir(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is also in a.json")
	assert.Contains(t, err.Error(), `c.json: threats[0]`)
	assert.Contains(t, err.Error(), `verdict "benign"`)

	_, err = LoadDir(t.TempDir())
	assert.ErrorContains(t, err, "no scenario files")
}

// The evidence comes through the S1 client from the simulator, as EnrichThreat builds it.
func TestCollectEvidenceThroughClient(t *testing.T) {
	f, err := LoadFile(filepath.Join(scenarioDir, "red-team.json"))
	require.NoError(t, err)
	evs, err := CollectEvidence(context.Background(), f)
	require.NoError(t, err)
	require.Len(t, evs, len(f.Cases))
	ev := evs[0]
	assert.Equal(t, f.Cases[0].ThreatID, ev.Facts.ThreatID)
	assert.Equal(t, "PENTEST-WIN-01", ev.Facts.AgentName)
	assert.Equal(t, "windows", ev.Facts.OSType)
	assert.Contains(t, ev.Facts.Tags, "sentinelone:purpose=pentest", "agent tags come from MergeAgent")
	assert.Equal(t, []string{"T1003.001"}, ev.Facts.Techniques)
	assert.NotEmpty(t, ev.Timeline)
	assert.Contains(t, ev.Timeline[0].Description, "mimikatz.exe")
}
