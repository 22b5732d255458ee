package s1client

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// The outbreak scenario's 300 threats and 120 agents, read back by ID: one request per
// 100 IDs, duplicates sent once, and an ID the console does not know simply absent.
func TestGetThreatsAndAgentsReadManyPerRequest(t *testing.T) {
	sc, err := scenario.LoadFS(scenarios.FS, "outbreak")
	require.NoError(t, err)
	sim, err := simulator.New(sc, simulator.Options{Token: testToken})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken, WithRateLimiter(nil))
	require.NoError(t, err)
	ctx := context.Background()

	var threatIDs, agentIDs []string
	require.NoError(t, c.EachThreat(ctx, ListThreatsParams{Limit: 1000}, func(th Threat) error {
		threatIDs = append(threatIDs, string(th.ID))
		if id := string(th.AgentRealtimeInfo.AgentID); !slices.Contains(agentIDs, id) {
			agentIDs = append(agentIDs, id)
		}
		return nil
	}))
	require.Len(t, threatIDs, 300)
	before := sim.Counters().Requests

	ask := append(slices.Clone(threatIDs[:250]), threatIDs[0], threatIDs[1], "1999999999999999999")
	got, err := c.GetThreats(ctx, ask)
	require.NoError(t, err)
	assert.Len(t, got, 250, "every known threat once; the unknown one absent")
	for _, id := range threatIDs[:250] {
		assert.Equal(t, id, string(got[id].ID))
	}
	after := sim.Counters().Requests
	assert.Equal(t, 3, after["GET /web/api/v2.1/threats"]-before["GET /web/api/v2.1/threats"], "251 distinct IDs: 100 + 100 + 51")

	agents, err := c.GetAgents(ctx, agentIDs)
	require.NoError(t, err)
	assert.Len(t, agents, len(agentIDs))
	assert.Equal(t, 2, sim.Counters().Requests["GET /web/api/v2.1/agents"]-after["GET /web/api/v2.1/agents"], "120 agents: 100 + 20")

	_, err = c.GetThreats(ctx, nil)
	assert.ErrorIs(t, err, ErrValidation, "an empty filter would read every threat")
	_, err = c.GetAgents(ctx, []string{"1", " "})
	assert.ErrorIs(t, err, ErrValidation)
}
