package activities_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const (
	laptopAgent  = "1900000000000000002" // SALES-LT-042, Windows
	laptopThreat = "1910000000000000002"
)

func (f *fixture) collectInput(marker string) activities.MitigateInput {
	return activities.MitigateInput{ThreatID: laptopThreat, AgentID: laptopAgent, Action: investigation.ActionCollectForensics,
		Forensics: &activities.ForensicsRequest{ScriptID: simulator.ScriptForensicsWindows, Timeout: 30 * time.Minute, Marker: marker,
			Since: f.clock.Now().Add(-time.Hour)}}
}

func (f *fixture) executions(agentID string) int {
	n := 0
	for _, c := range f.sim.Counters().ScriptExecutions[agentID] {
		n += c
	}
	return n
}

// followUntilSettled calls the verification as its retry policy would, advancing the
// console's clock between polls, and returns the settled result.
func (f *fixture) followUntilSettled(t *testing.T, in activities.VerifyInput) (activities.VerifyResult, []string) {
	t.Helper()
	var waited []string
	for range 60 {
		res, err := activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
		if err == nil {
			return res, waited
		}
		require.Contains(t, err.Error(), "not settled yet", "only 'not settled' may end an attempt early")
		waited = append(waited, err.Error())
		f.clock.Advance(5 * time.Second)
	}
	t.Fatalf("the collection never settled: %v", waited)
	return activities.VerifyResult{}, nil
}

func TestForensicCollectionRunsOnceAndIsFollowedToItsPackage(t *testing.T) {
	f := newFixture(t)
	in := f.collectInput("s1c:s1-threat/" + laptopThreat)
	mr, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	require.NotEmpty(t, mr.ParentTaskID)
	assert.False(t, mr.AlreadyRequested)
	assert.Equal(t, 1, f.executions(laptopAgent))

	// A retry whose first answer was lost (it has no parent task ID) finds the
	// execution in the activity log instead of running the script again.
	again, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.True(t, again.AlreadyRequested)
	assert.Equal(t, mr.ParentTaskID, again.ParentTaskID)
	assert.Equal(t, 1, f.executions(laptopAgent), "a retried collection must not run the script twice")

	in.ParentTaskID = mr.ParentTaskID
	res, waited := f.followUntilSettled(t, in)
	assert.NotEmpty(t, waited, "the task takes time on the agent")
	assert.Equal(t, "success", res.State)
	require.NotNil(t, res.Forensics)
	assert.Equal(t, "completed", res.Forensics.Status)
	assert.Equal(t, mr.ParentTaskID, res.Forensics.ParentTaskID)
	assert.NotEmpty(t, res.Forensics.TaskID)
	assert.NotEmpty(t, res.Forensics.FileName)
	assert.True(t, strings.HasPrefix(res.Forensics.DownloadURL, "http"), res.Forensics.DownloadURL)
	assert.Empty(t, res.Forensics.NoFile)
}

func TestAnotherInvestigationsMarkerStartsItsOwnCollection(t *testing.T) {
	f := newFixture(t)
	_, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, f.collectInput("s1c:s1-threat/one"))
	require.NoError(t, err)
	other, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, f.collectInput("s1c:s1-threat/two"))
	require.NoError(t, err)
	assert.False(t, other.AlreadyRequested)
	assert.Equal(t, 2, f.executions(laptopAgent))
}

func TestForensicCollectionStatesAreReportedAsSuch(t *testing.T) {
	t.Run("the agent is offline", func(t *testing.T) {
		f := newFixture(t)
		require.NoError(t, f.sim.SetAgentOnline(laptopAgent, false))
		in := f.collectInput("s1c:offline")
		mr, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
		require.NoError(t, err)
		in.ParentTaskID = mr.ParentTaskID
		_, err = activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the agent is offline; the task runs when it reconnects")
	})
	t.Run("the console holds the script for approval", func(t *testing.T) {
		f := newFixture(t)
		in := f.collectInput("s1c:held")
		in.Forensics.ScriptID = simulator.ScriptMemoryDumpWindows
		mr, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
		require.NoError(t, err)
		in.ParentTaskID = mr.ParentTaskID
		for range 3 {
			_, err = activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "pending_user_action: the console holds the script for a user's approval")
			f.clock.Advance(time.Minute)
		}
	})
	t.Run("the console gives no task until a user approves", func(t *testing.T) {
		// SentinelOne's schema: parentTaskId is null for a pending execution.
		f := newFixtureWith(t, func(o *simulator.Options) { o.StrictPendingExecutions = true })
		in := f.collectInput("s1c:strict")
		in.Forensics.ScriptID = simulator.ScriptMemoryDumpWindows
		mr, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
		require.NoError(t, err)
		require.Empty(t, mr.ParentTaskID)
		in.ParentTaskID = mr.ParentTaskID
		_, err = activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no task until it is approved")
		pending := f.pendingExecutions(t)
		require.Len(t, pending, 1)
		require.NoError(t, f.sim.ApproveScriptExecution(pending[0], true))
		res, _ := f.followUntilSettled(t, in)
		assert.Equal(t, "success", res.State)
		require.NotNil(t, res.Forensics)
		assert.NotEmpty(t, res.Forensics.ParentTaskID, "found by its marker once approved")
		assert.NotEmpty(t, res.Forensics.DownloadURL)
		assert.Equal(t, 1, f.executions(laptopAgent))
	})
	t.Run("the script fails", func(t *testing.T) {
		f := newFixture(t)
		require.NoError(t, f.sim.SetScriptFailure(laptopAgent, "", "disk full"))
		in := f.collectInput("s1c:fails")
		mr, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
		require.NoError(t, err)
		in.ParentTaskID = mr.ParentTaskID
		res, _ := f.followUntilSettled(t, in)
		assert.Equal(t, "failed", res.State)
		require.NotNil(t, res.Forensics)
		assert.Equal(t, "failed", res.Forensics.Status)
		assert.Equal(t, "the task ended failed", res.Forensics.NoFile)
		assert.Contains(t, res.Detail, "disk full")
		assert.Empty(t, res.Forensics.DownloadURL)
	})
	t.Run("bad input is refused, not retried", func(t *testing.T) {
		f := newFixture(t)
		in := f.collectInput("s1c:bad")
		in.Forensics = nil
		_, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
		activitytest.RequireNonRetryable(t, err, activities.ErrTypeBadInput)
		in = f.collectInput("s1c:unknown-script")
		in.Forensics.ScriptID = "404"
		_, err = activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
		activitytest.RequireNonRetryable(t, err, activities.ErrTypeS1Refused)
		assert.Equal(t, 0, f.executions(laptopAgent))
	})
}

// pendingExecutions lists the IDs of the executions the console holds for approval.
func (f *fixture) pendingExecutions(t *testing.T) []string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+"/web/api/v2.1/remote-scripts/pending-executions", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "ApiToken "+simtest.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		Data []struct {
			ID string `json:"pendingExecutionId"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	var ids []string
	for _, d := range body.Data {
		ids = append(ids, d.ID)
	}
	return ids
}
