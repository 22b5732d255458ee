package ingest_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/ingest"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// threatsGETs counts the simulator's GET /threats requests.
func threatsGETs(f *fixture) int { return f.sim.Counters().Requests["GET /web/api/v2.1/threats"] }

// After a burst, a poll reads one page a stream (its totalItems counts the overlap
// window, which holds nothing unseen) instead of re-listing the whole window on both
// streams; only the scheduled sweep reads it again. The benchmark's settings: 1m overlap,
// a poll every 2 s, pages of 200.
func TestPollerBurstReadsTheWindowOnlyWhenItMayHoldSomethingUnseen(t *testing.T) {
	const burst, pageSize = 1000, 200
	f := newFixture(t)
	st := &starter{}
	p, env := newPollerEnv(f, st, pageSize)
	overlap := time.Minute
	poll := func(state ingest.PollState) (ingest.PollResult, int) {
		t.Helper()
		before := threatsGETs(f)
		res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: state, Overlap: overlap})
		require.NoError(t, err)
		gets := threatsGETs(f) - before
		require.Equal(t, gets, res.Requests, "the poll counts its own requests")
		return res, gets
	}
	res, _ := poll(since(f.clock.Now())) // a quiet console: the cursor is set

	// 1,000 detections in 10 s.
	f.clock.Advance(10 * time.Second)
	for i := range burst {
		require.NoError(t, f.sim.AddThreat(simtest.NewThreat(fmt.Sprintf("19300000000000%05d", i), simtest.AgentHR, fmt.Sprintf("%dms", i*10))))
	}
	f.clock.Advance(2 * time.Second)
	res, gets := poll(res.State)
	require.Equal(t, burst, res.Started)
	assert.Equal(t, 2*burst/pageSize, gets, "the burst itself: every page of it, on both streams")
	total := gets

	sweeps := 0
	for n := 2; n <= 10; n++ {
		f.clock.Advance(2 * time.Second)
		res, gets = poll(res.State)
		total += gets
		assert.Zero(t, res.Started+res.AlreadyStarted+res.Notified+res.Late, "poll %d", n)
		if res.Sweeps == 0 {
			assert.Equal(t, 2, gets, "poll %d: one page a stream", n)
			assert.Equal(t, 2, res.WindowChecks, "poll %d", n)
			assert.Zero(t, res.WindowRelists, "poll %d", n)
			continue
		}
		sweeps += res.Sweeps
		assert.Equal(t, 1, res.Sweeps, "poll %d: the streams do not sweep together here", n)
		assert.Equal(t, 1+burst/pageSize, gets, "poll %d: a sweep reads the window whole, the other stream one page", n)
	}
	assert.Equal(t, 1, sweeps, "one sweep (the updated stream's, every 15 s) in the 18 s after the burst")
	// Re-listing the window on both streams, as the poller did before, costs
	// 2 × 1000/200 = 10 requests every poll: 100 for these 10 polls.
	assert.Equal(t, 10+8*2+6, total, "GET /threats for the 10 polls from the burst on")
	t.Logf("%d threats, 10 polls from the burst on: %d GET /threats (re-listing the window: %d)", burst, total, 10*2*burst/pageSize)
}

// A threat listed late (its createdAt is behind the cursor when it shows up) is found at
// the next poll: the window's count exceeds what Seen holds, and the poll reads on,
// newest first, until it has found as many as were missing. No sweep is needed.
func TestPollerFindsALateThreatByTheWindowCount(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p, env := newPollerEnv(f, st, 2) // pages of 2: the window spans several
	overlap := 5 * time.Minute
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: overlap})
	require.NoError(t, err)
	require.Equal(t, 5, res.Started)
	st.takeCalls()
	cursor := res.State.Created.Since // the no-VSS ransomware, 2m ago

	// Just behind the cursor: it is on the first page of the window.
	f.clock.Advance(10 * time.Second)
	const late = "1910000000000000301"
	require.NoError(t, f.sim.AddThreat(simtest.NewThreat(late, simtest.AgentHR, "2m20s")))
	res, err = activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: overlap})
	require.NoError(t, err)
	assert.Equal(t, []string{late}, st.takeCalls())
	assert.Equal(t, 1, res.Started)
	assert.Equal(t, 1, res.Late)
	assert.Zero(t, res.Sweeps, "the count found it, not a sweep")
	assert.Equal(t, 1, res.WindowRelists, "the created stream's count differed")
	assert.Equal(t, 1, res.WindowChecks, "the updated stream's did not: the start marked the threat's version seen")
	assert.Equal(t, 2, res.Requests, "one page a stream: the late threat was on the first")
	assert.True(t, res.State.Created.Since.Equal(cursor), "a late threat does not move the cursor")

	// Deep in the window, behind three threats already seen: the poll reads on to it.
	f.clock.Advance(10 * time.Second)
	const deep = "1910000000000000302"
	require.NoError(t, f.sim.AddThreat(simtest.NewThreat(deep, simtest.AgentHR, "7m"))) // 11:53:20, 20 s inside the window
	res, err = activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: overlap})
	require.NoError(t, err)
	assert.Equal(t, []string{deep}, st.takeCalls())
	assert.Equal(t, 1, res.Late)
	assert.Equal(t, 1, res.WindowRelists)
	assert.Equal(t, 3+1, res.Requests, "the created stream's third page holds it; the updated stream still needs one")

	// Found once: the next poll starts nothing and reads one page a stream.
	res, err = activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: overlap})
	require.NoError(t, err)
	assert.Empty(t, st.takeCalls())
	assert.Equal(t, 2, res.WindowChecks)
	assert.Equal(t, 2, res.Requests)
}

// A change listed late whose threat's previous version is also in the window does not
// change the window's count; the scheduled sweep of the updated stream routes it.
func TestPollerSweepRoutesALateUpdateTheCountCannotSee(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p, env := newPollerEnv(f, st, 2)
	overlap := 5 * time.Minute // the updated stream sweeps every 75 s
	poll := func(state ingest.PollState) ingest.PollResult {
		t.Helper()
		res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: state, Overlap: overlap})
		require.NoError(t, err)
		return res
	}
	res := poll(since(f.clock.Now().Add(-time.Hour)))
	require.Equal(t, 5, res.Started)
	resolve := func(id string) {
		require.NoError(t, f.sim.UpdateThreat(id, simulator.ThreatUpdate{IncidentStatus: "resolved"}))
	}
	f.clock.Advance(30 * time.Second)
	resolve(simtest.ThreatMacro) // 12:00:30
	f.clock.Advance(10 * time.Second)
	resolve(simtest.ThreatAdware) // 12:00:40
	f.clock.Advance(10 * time.Second)
	resolve(simtest.ThreatMiner) // 12:00:50
	f.clock.Advance(5 * time.Second)
	res = poll(res.State)
	require.ElementsMatch(t, []string{simtest.ThreatMacro, simtest.ThreatAdware, simtest.ThreatMiner}, st.notified)

	// The cursor is at 12:00:50. An analyst's verdict on the macro threat shows up now,
	// stamped 12:00:35: behind the cursor, and behind the adware's change, so not on the
	// first page. Its previous version (12:00:30) was in the window too, so the count of
	// the window is what the poller expects.
	f.clock.Advance(-20 * time.Second)
	require.NoError(t, f.sim.UpdateThreat(simtest.ThreatMacro, simulator.ThreatUpdate{AnalystVerdict: "true_positive"}))
	f.clock.Advance(21 * time.Second)
	res = poll(res.State)
	assert.Zero(t, res.Sweeps)
	assert.Equal(t, 2, res.WindowChecks)
	assert.Equal(t, 1, countOf(st.notified, simtest.ThreatMacro), "no count can see this change")

	// Once the sweep is due, the whole window is read and the change routed.
	f.clock.Advance(75 * time.Second)
	res = poll(res.State)
	assert.Equal(t, 1, res.Sweeps, "the updated stream's (the created stream's is due every 150 s)")
	assert.Equal(t, 1, res.Late)
	assert.Equal(t, 1, res.Notified)
	assert.Equal(t, 2, countOf(st.notified, simtest.ThreatMacro), "the late verdict reached the investigation")
	assert.True(t, res.State.Updated.SweptAt.Equal(f.clock.Now()))
}

func countOf(ids []string, id string) int {
	return len(slices.DeleteFunc(slices.Clone(ids), func(x string) bool { return x != id }))
}

// A Seen entry whose threat the console no longer lists in the window (deleted, moved out
// of scope) makes the counts differ once: the window is read whole and the entry dropped,
// instead of re-reading the window at every poll until the entry leaves it.
func TestPollerDropsSeenThreatsTheConsoleNoLongerLists(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p, env := newPollerEnv(f, st, 2)
	overlap := 5 * time.Minute
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: overlap})
	require.NoError(t, err)
	const gone = "1910000000000000399"
	state := res.State
	state.Created.Seen[gone] = f.clock.Now().Add(-3 * time.Minute) // in the window, unknown to the console

	f.clock.Advance(10 * time.Second)
	res, err = activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: state, Overlap: overlap})
	require.NoError(t, err)
	assert.Equal(t, 1, res.WindowRelists, "fewer threats than Seen holds: read it all")
	assert.NotContains(t, res.State.Created.Seen, gone)
	assert.Len(t, res.State.Created.Seen, 4, "the window's real threats stay")

	res, err = activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: overlap})
	require.NoError(t, err)
	assert.Equal(t, 2, res.WindowChecks)
	assert.Equal(t, 2, res.Requests)
	assert.Empty(t, st.takeCalls()[5:], "nothing started but the first poll's five")
}

// Poller histories in flight carry PollState (and Totals) in the shape from before window
// checks. It decodes; its first poll sweeps both windows (it knows no sweep), which finds a
// threat listed late as the old poller would have; what it had seen is not started again.
func TestPollerStateFromBeforeWindowChecks(t *testing.T) {
	f := newFixture(t)
	st := &starter{running: map[string]bool{}}
	p, env := newPollerEnv(f, st, 2)
	// The state a poller from before this change continued as new with after its first
	// poll at 12:00 (overlap 5m): all five demo threats started, three in the window.
	const oldInput = `{
	  "settings": {"interval": 30000000000, "lookback": 3600000000000, "overlap": 300000000000, "scope": {}},
	  "state": {
	    "created": {"since": "2025-03-01T11:58:00Z", "seen": {
	      "1910000000000000002": "2025-03-01T11:53:00Z", "1910000000000000003": "2025-03-01T11:55:00Z",
	      "1910000000000000004": "2025-03-01T11:56:00Z", "1910000000000000005": "2025-03-01T11:58:00Z"}},
	    "updated": {"since": "2025-03-01T11:58:00Z", "seen": {
	      "1910000000000000002": "2025-03-01T11:53:00Z", "1910000000000000003": "2025-03-01T11:55:00Z",
	      "1910000000000000004": "2025-03-01T11:56:00Z", "1910000000000000005": "2025-03-01T11:58:00Z"}}
	  },
	  "totals": {"polls": 1, "failedPolls": 0, "listed": 10, "started": 5, "alreadyStarted": 0, "notified": 0, "closed": 0, "feedback": 0}
	}`
	payload, err := converter.GetDefaultDataConverter().ToPayload(json.RawMessage(oldInput))
	require.NoError(t, err)
	var in ingest.PollerInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(payload, &in))
	assert.Equal(t, 5*time.Minute, in.Settings.Overlap)
	assert.Equal(t, 5, in.Totals.Started)
	assert.True(t, in.State.Created.SweptAt.IsZero())
	assert.Len(t, in.State.Updated.Seen, 4)
	old, err := json.Marshal(in.State)
	require.NoError(t, err)
	var shape map[string]any
	require.NoError(t, json.Unmarshal([]byte(oldInput), &shape))
	want, err := json.Marshal(shape["state"])
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(old), "a state that never swept keeps its old shape")

	for _, id := range demoThreats {
		st.running[id] = true
	}
	f.clock.Advance(10 * time.Second)
	const late = "1910000000000000301"
	require.NoError(t, f.sim.AddThreat(simtest.NewThreat(late, simtest.AgentHR, "4m"))) // 11:56:10
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: in.State, Overlap: in.Settings.Overlap})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Sweeps, "no sweep recorded: both windows are read whole")
	assert.Equal(t, []string{late}, st.takeCalls(), "the late threat, and nothing seen before")
	assert.Equal(t, 1, res.Started)
	assert.Zero(t, res.AlreadyStarted)
	assert.True(t, res.State.Created.SweptAt.Equal(f.clock.Now()))
	assert.True(t, res.State.Updated.SweptAt.Equal(f.clock.Now()))
	b, err := json.Marshal(res.State)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"sweptAt":"2025-03-01T12:00:10Z"`)

	// From then on, counts.
	res, err = activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: in.Settings.Overlap})
	require.NoError(t, err)
	assert.Equal(t, 2, res.WindowChecks)
	assert.Empty(t, st.takeCalls())
}
