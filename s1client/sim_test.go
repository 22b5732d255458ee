package s1client

import (
	"context"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// TestAgainstSimulator exercises the client end to end against s1sim, which is written
// independently from the reference, so a shared misreading shows up here.
func TestAgainstSimulator(t *testing.T) {
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	clock := fakeclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	sim, err := simulator.New(sc, simulator.Options{
		Token: testToken, MitigationDelay: 30 * time.Second, IsolationDelay: 10 * time.Second, Now: clock.Now,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/", testToken, WithRateLimiter(nil))
	require.NoError(t, err)
	ctx := context.Background()

	// Wrong token: 401 decoded into the sentinel.
	bad, err := New(srv.URL, "wrong-token", WithRateLimiter(nil))
	require.NoError(t, err)
	_, err = bad.ListThreats(ctx, ListThreatsParams{})
	assert.ErrorIs(t, err, ErrUnauthorized)

	// Paging: 2 per page over all threats, oldest first, with a createdAt filter.
	var all []Threat
	err = c.EachThreat(ctx, ListThreatsParams{
		Limit: 2, SortBy: "createdAt", SortOrder: "asc", CreatedAtGte: clock.Now().Add(-time.Hour),
	}, func(th Threat) error {
		all = append(all, th)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, all, len(sc.Threats))
	for i := 1; i < len(all); i++ {
		assert.False(t, all[i].ThreatInfo.CreatedAt.Before(all[i-1].ThreatInfo.CreatedAt.Time), "ascending createdAt")
	}
	page, err := c.ListThreats(ctx, ListThreatsParams{Limit: 2})
	require.NoError(t, err)
	assert.Len(t, page.Items, 2)
	assert.NotEmpty(t, page.NextCursor)
	assert.Equal(t, len(sc.Threats), page.TotalItems)
	none, err := c.ListThreats(ctx, ListThreatsParams{CreatedAtGte: clock.Now().Add(time.Hour)})
	require.NoError(t, err)
	assert.Empty(t, none.Items)

	assert.True(t, page.Counted)

	// Counting: __lt excludes its bound, so [oldest, newest) leaves the newest out.
	oldest, newest := all[0].ThreatInfo.CreatedAt.Time, all[len(all)-1].ThreatInfo.CreatedAt.Time
	count, err := c.ListThreats(ctx, ListThreatsParams{CreatedAtGte: oldest, CreatedAtLt: newest, CountOnly: true})
	require.NoError(t, err)
	assert.Empty(t, count.Items)
	assert.True(t, count.Counted)
	assert.Equal(t, len(all)-1, count.TotalItems)
	count, err = c.ListThreats(ctx, ListThreatsParams{UpdatedAtLt: oldest, CountOnly: true})
	require.NoError(t, err)
	assert.True(t, count.Counted)
	assert.Zero(t, count.TotalItems)

	// Get threat and its agent.
	var target Threat
	for _, th := range all {
		if th.AgentRealtimeInfo.AgentOsType == "windows" {
			target = th
			break
		}
	}
	require.NotEmpty(t, target.ID)
	threatID := string(target.ID)
	th, err := c.GetThreat(ctx, threatID)
	require.NoError(t, err)
	assert.Equal(t, target.ThreatInfo.ThreatName, th.ThreatInfo.ThreatName)
	_, err = c.GetThreat(ctx, "1999999999999999999")
	assert.ErrorIs(t, err, ErrNotFound)

	agentID := string(th.AgentRealtimeInfo.AgentID)
	agent, err := c.GetAgent(ctx, agentID)
	require.NoError(t, err)
	assert.Equal(t, th.AgentRealtimeInfo.AgentComputerName, agent.ComputerName)
	assert.Equal(t, "connected", agent.NetworkStatus)
	assert.NotEmpty(t, agent.Tags["sentinelone"], "tags decode as {\"sentinelone\":[…]}")
	_, err = c.GetAgent(ctx, "1999999999999999999")
	assert.ErrorIs(t, err, ErrNotFound)

	// Notes: add, then list.
	before, err := c.ThreatNotes(ctx, threatID)
	require.NoError(t, err)
	n, err := c.AddThreatNote(ctx, []string{threatID}, "s1copilot [inv-test/analyse] looks malicious")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	notes, err := c.ThreatNotes(ctx, threatID)
	require.NoError(t, err)
	require.Len(t, notes, len(before)+1)
	assert.Equal(t, "s1copilot [inv-test/analyse] looks malicious", notes[len(notes)-1].Text)

	// Mitigate kill: accepted, pending, then success once the agent "reports".
	res, err := c.Mitigate(ctx, MitigationKill, []string{threatID})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Affected)
	th, err = c.GetThreat(ctx, threatID)
	require.NoError(t, err)
	entry, ok := th.MitigationEntry(MitigationKill.StatusAction())
	require.True(t, ok, "kill entry appears at once")
	assert.Equal(t, MitigationStatusPending, entry.Status)
	assert.False(t, entry.Done())
	clock.Advance(31 * time.Second)
	th, err = c.GetThreat(ctx, threatID)
	require.NoError(t, err)
	entry, ok = th.MitigationEntry("kill")
	require.True(t, ok)
	assert.Equal(t, MitigationStatusSuccess, entry.Status)
	assert.True(t, entry.Done())
	assert.Equal(t, "mitigated", th.ThreatInfo.MitigationStatus)

	// The timeline witnesses the command and the agent's report.
	tl, err := c.ThreatTimeline(ctx, threatID, 0)
	require.NoError(t, err)
	var codes []int
	for _, e := range tl {
		codes = append(codes, e.ActivityType.Int())
	}
	assert.Contains(t, codes, 2011)
	assert.Contains(t, codes, 2001)
	short, err := c.ThreatTimeline(ctx, threatID, 1)
	require.NoError(t, err)
	assert.Len(t, short, 1)

	// Verdict and incident status.
	n, err = c.SetAnalystVerdict(ctx, []string{threatID}, VerdictTruePositive)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = c.SetIncidentStatus(ctx, []string{threatID}, IncidentInProgress, "")
	require.NoError(t, err)
	th, err = c.GetThreat(ctx, threatID)
	require.NoError(t, err)
	assert.Equal(t, VerdictTruePositive, th.ThreatInfo.AnalystVerdict)
	assert.Equal(t, IncidentInProgress, th.ThreatInfo.IncidentStatus)

	// Disconnect: disconnecting, then disconnected; connect back.
	n, err = c.DisconnectAgents(ctx, []string{agentID})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	agent, err = c.GetAgent(ctx, agentID)
	require.NoError(t, err)
	assert.Equal(t, "disconnecting", agent.NetworkStatus)
	clock.Advance(11 * time.Second)
	agent, err = c.GetAgent(ctx, agentID)
	require.NoError(t, err)
	assert.Equal(t, "disconnected", agent.NetworkStatus)
	_, err = c.ConnectAgents(ctx, []string{agentID})
	require.NoError(t, err)
	clock.Advance(11 * time.Second)
	agent, err = c.GetAgent(ctx, agentID)
	require.NoError(t, err)
	assert.Equal(t, "connected", agent.NetworkStatus)

	counters := sim.Counters()
	assert.Equal(t, 1, counters.Mitigations[threatID]["kill"])
	assert.Equal(t, 1, counters.Notes[threatID])
}
