package s1client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

func TestSetExternalTicketIDWire(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			writeJSON(w, 200, `{"data":[]}`)
			return
		}
		writeJSON(w, 200, `{"data":{"affected":"1"}}`)
	})
	ctx := context.Background()
	n, err := c.SetExternalTicketID(ctx, "11", "TICKET-7")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	exists := true
	_, err = c.ListThreats(ctx, ListThreatsParams{ExternalTicketIDs: []string{"TICKET-7", "INC-1"}, ExternalTicketExists: &exists})
	require.NoError(t, err)

	reqs := rec.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/web/api/v2.1/threats/external-ticket-id", reqs[0].Path)
	assert.JSONEq(t, `{"filter":{"ids":["11"]},"data":{"externalTicketId":"TICKET-7"}}`, string(reqs[0].Body))
	assert.Equal(t, []string{"TICKET-7,INC-1"}, reqs[1].Query["externalTicketIds"])
	assert.Equal(t, []string{"true"}, reqs[1].Query["externalTicketExists"])

	for name, args := range map[string][2]string{
		"no threat":      {"", "T-1"},
		"no ticket":      {"11", ""},
		"blank ticket":   {"11", "   "},
		"control in ID":  {"11", "T-1\r\nX-Injected: 1"},
		"NUL in the ID":  {"11", "T\x001"},
		"ticket w comma": {"11", "A,B"}, // allowed: not a filter value
	} {
		_, err := c.SetExternalTicketID(ctx, args[0], args[1])
		if name == "ticket w comma" {
			assert.NoError(t, err, name)
			continue
		}
		assert.ErrorIs(t, err, ErrValidation, name)
	}
	assert.Len(t, rec.all(), 3, "refused arguments send nothing")
	_, err = c.ListThreats(ctx, ListThreatsParams{ExternalTicketIDs: []string{"A,B"}})
	assert.ErrorIs(t, err, ErrValidation, "a comma would split the filter")
}

func TestSetExternalTicketIDAgainstSimulator(t *testing.T) {
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	clock := fakeclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	sim, err := simulator.New(sc, simulator.Options{Token: testToken, Now: clock.Now})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken, WithRateLimiter(nil))
	require.NoError(t, err)
	ctx := context.Background()
	threatID := sc.Threats[0].ID

	before, err := c.GetThreat(ctx, threatID)
	require.NoError(t, err)
	assert.Empty(t, before.ThreatInfo.ExternalTicketID)
	assert.False(t, bool(before.ThreatInfo.ExternalTicketExists))

	n, err := c.SetExternalTicketID(ctx, threatID, "TICKET-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = c.SetExternalTicketID(ctx, threatID, "TICKET-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a retry still reports the threat")
	n, err = c.SetExternalTicketID(ctx, "1999999999999999999", "TICKET-1")
	require.NoError(t, err)
	assert.Zero(t, n, "an unknown threat is not affected")

	after, err := c.GetThreat(ctx, threatID)
	require.NoError(t, err)
	assert.Equal(t, "TICKET-1", after.ThreatInfo.ExternalTicketID)
	assert.True(t, bool(after.ThreatInfo.ExternalTicketExists))

	page, err := c.ListThreats(ctx, ListThreatsParams{ExternalTicketIDs: []string{"TICKET-1"}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, threatID, string(page.Items[0].ID))
	exists := true
	page, err = c.ListThreats(ctx, ListThreatsParams{ExternalTicketExists: &exists})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	exists = false
	page, err = c.ListThreats(ctx, ListThreatsParams{ExternalTicketExists: &exists, CountOnly: true})
	require.NoError(t, err)
	assert.Equal(t, len(sc.Threats)-1, page.TotalItems)

	timeline, err := c.ThreatTimeline(ctx, threatID, 0)
	require.NoError(t, err)
	changes := 0
	for _, e := range timeline {
		if e.ActivityType == 2029 {
			changes++
		}
	}
	assert.Equal(t, 1, changes, "one 2029 Ticket Number Changes, not one per retry")
}
