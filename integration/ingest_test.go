package integration

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
	"github.com/s1copilot/s1copilot/workflows"
)

// TestIngestionNeverMissesOrDuplicates is the ingestion property: with threats that
// become visible late, console updates, a poller restart, SentinelOne answering with
// 5xx (some after applying the change), 429 bursts with and without Retry-After and
// truncated bodies, and the simulator enforcing the real rate limits, every threat gets
// exactly one investigation, no side effect happens twice, and no rate limit is exceeded.
func TestIngestionNeverMissesOrDuplicates(t *testing.T) {
	s := newStack(t, stackOptions{
		sim: func(o *simulator.Options) {
			o.EnforceRateLimits = true
			o.FaultsAfterSideEffects = true // a 5xx may come after the change was applied
			o.Faults = simulator.Faults{ServerErrorRate: 0.08, RateLimitBurstEvery: 40, RateLimitBurstLength: 2, InvalidJSONRate: 0.03, Seed: 7}
			o.DefaultVisibleAfter = 2 * time.Second // consoles list new threats late
		},
		config: func(c *config.Config) { c.PollOverlap = 20 * time.Second },
	})
	s.startPoller()

	const serverRansomware = "1910000000000000001" // waits for approval (server): an analyst resolves it instead
	agents := []string{"1900000000000000002", "1900000000000000003", "1900000000000000005"}
	rng := rand.New(rand.NewPCG(3, 5))
	threats := []string{"1910000000000000001", "1910000000000000002", "1910000000000000003", "1910000000000000004", "1910000000000000005"}
	approved := map[string]bool{serverRansomware: true} // never approve this one
	resolved := false
	tick := func() {
		s.approveWaiting(threats, approved)
		if st, running := s.stage(serverRansomware); !resolved && running && st == string(workflows.StageAwaitingApproval) {
			require.NoError(t, s.sim.UpdateThreat(serverRansomware, simulator.ThreatUpdate{IncidentStatus: "resolved"}))
			resolved = true
		}
	}
	for wave := range 3 {
		for i := range 4 {
			id := fmt.Sprintf("19200000000000%05d", wave*10+i)
			th := newThreat(id, agents[rng.IntN(len(agents))])
			th.VisibleAfter = fmt.Sprintf("%dms", rng.IntN(4000)) // 0–4 s late
			require.NoError(t, s.sim.AddThreat(th))
			threats = append(threats, id)
		}
		if wave == 1 {
			s.poller.Stop()
			s.startPoller()
		}
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			tick()
			time.Sleep(200 * time.Millisecond)
		}
	}

	var pending []string
	waitUntil(t, s.ctx, "every threat's investigation finished (still running: see log)", func() bool {
		tick()
		pending = pending[:0]
		for _, id := range threats {
			if st, running := s.stage(id); running {
				pending = append(pending, id+"@"+st)
			}
		}
		if len(pending) > 0 {
			t.Logf("still running: %v", pending)
			return false
		}
		return len(s.investigations()) == len(threats)
	})

	// Exactly one investigation per threat the simulator holds, and no other.
	inv := s.investigations()
	var got []string
	for wid, n := range inv {
		assert.Equal(t, 1, n, "runs of %s", wid)
		id, ok := workflows.ThreatIDFromWorkflowID(wid)
		require.True(t, ok)
		got = append(got, id)
	}
	slices.Sort(got)
	want := slices.Clone(threats)
	slices.Sort(want)
	assert.Equal(t, want, got)

	c := s.sim.Counters()
	assert.Empty(t, c.RateLimitViolations, "SentinelOne's rate limits were exceeded")
	assert.NotEmpty(t, c.InjectedFaults, "the fault profile injected nothing: the test proves nothing")
	t.Logf("injected faults: %v; requests: %d endpoints", c.InjectedFaults, len(c.Requests))
	for threat, byAction := range c.Mitigations {
		for action, n := range byAction {
			assert.Equal(t, 1, n, "%s requested %d times on %s", action, n, threat)
		}
	}
	for _, id := range threats {
		assert.Equal(t, 2, c.Notes[id], "notes on %s", id)
	}

	// The analyst's resolution in the console stopped the server investigation from acting.
	r := s.result(serverRansomware)
	assert.Equal(t, workflows.OutcomeResolvedInConsole, r.Outcome)
	assert.True(t, r.ClosedInConsole)
	assert.Empty(t, c.Mitigations[serverRansomware])
	assert.Zero(t, c.AgentActions["1900000000000000001"]["disconnect"])
}

// Two deployments in one namespace (two consoles here; staging beside production
// alike) keep to their own: each has its poller, its control workflow and its
// SentinelOne queue, derived from its task queue, and no investigation of one runs on
// the other's workers or reads the other's console.
func TestTwoDeploymentsShareANamespace(t *testing.T) {
	a := newStack(t, stackOptions{})
	b := newStack(t, stackOptions{beside: a, scenario: "quiet-day", config: func(c *config.Config) {
		c.Temporal.TaskQueue, c.Temporal.S1TaskQueue = "s1copilot-b", "s1copilot-b-s1"
		c.PollLookback = 24 * time.Hour // the quiet day's detections span eight hours
	}})
	a.startPoller()
	b.startPoller()
	for _, s := range []*stack{a, b} {
		waitUntil(t, s.ctx, s.cfg.Temporal.TaskQueue+" started every threat of its console", func() bool {
			return len(s.investigationsOnQueue()) == len(s.threatIDs)
		})
	}
	ida, idb := a.investigationsOnQueue(), b.investigationsOnQueue()
	for _, id := range a.threatIDs {
		assert.True(t, ida[id], "a's threat %s is investigated by a", id)
		assert.False(t, idb[id], "and not by b")
	}
	for _, id := range b.threatIDs {
		assert.True(t, idb[id], "b's threat %s is investigated by b", id)
	}
	for id := range ida {
		assert.Zero(t, b.sim.Counters().Notes[id], "b's console has no note about a's threat %s", id)
	}
	assert.NotEqual(t, a.cfg.Temporal.PollerWorkflowID(), b.cfg.Temporal.PollerWorkflowID())
	assert.Equal(t, len(ida), a.pollerTotals().Started, "a's poller started a's threats only")
	assert.Equal(t, len(idb), b.pollerTotals().Started, "b's poller started b's threats only")

	// The kill switch of one deployment is not the other's.
	_, err := b.control().SetKillSwitch(b.ctx, control.KillSwitchRequest{On: true, Actor: "b-admin", Reason: "integration test"})
	require.NoError(t, err)
	st, err := a.control().Current(a.ctx)
	require.NoError(t, err)
	assert.False(t, st.KillSwitch)
}
