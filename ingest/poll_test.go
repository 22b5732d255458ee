package ingest_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/ingest"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
)

// since is a fresh cursor: both streams start at t.
func since(t time.Time) ingest.PollState {
	return ingest.PollState{Created: ingest.StreamState{Since: t}, Updated: ingest.StreamState{Since: t}}
}

var demoThreats = []string{simtest.ThreatRansomFS, simtest.ThreatMacro, simtest.ThreatAdware, simtest.ThreatMiner, simtest.ThreatNoVSS}

// starter is a fake activities.Investigations that behaves like workflows whose ID
// derives from the threat ID: a second start of the same threat reports started=false.
type starter struct {
	// gate, when set, holds every Start until it is closed, to observe concurrency.
	gate     chan struct{}
	inFlight atomic.Int32
	maxIn    atomic.Int32
	mu       sync.Mutex
	calls    []string        // every Start call, in order
	notified []string        // every Notify call that reached a running investigation
	running  map[string]bool // threats with an investigation
	closed   map[string]bool // of those, the ones whose investigation has finished
	failFor  map[string]int  // threat ID -> how many more calls fail
}

func (s *starter) Notify(ctx context.Context, t s1client.Threat) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := string(t.ID)
	if !s.running[id] || s.closed[id] {
		return false, nil
	}
	s.notified = append(s.notified, id)
	return true, nil
}

var errStart = errors.New("temporal frontend unavailable")

func (s *starter) Start(ctx context.Context, t s1client.Threat) (bool, error) {
	if s.gate != nil {
		n := s.inFlight.Add(1)
		for m := s.maxIn.Load(); n > m && !s.maxIn.CompareAndSwap(m, n); m = s.maxIn.Load() {
		}
		<-s.gate
		defer s.inFlight.Add(-1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := string(t.ID)
	s.calls = append(s.calls, id)
	if s.failFor[id] > 0 {
		s.failFor[id]--
		return false, errStart
	}
	if s.running == nil {
		s.running = map[string]bool{}
	}
	if s.running[id] {
		return false, nil
	}
	s.running[id] = true
	return true, nil
}

func (s *starter) takeCalls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls
	s.calls = nil
	return out
}

func newPollerEnv(f *fixture, st *starter, pageSize int) (*ingest.Poller, *testsuite.TestActivityEnvironment) {
	p := &ingest.Poller{S1: f.s1, Investigations: st, PageSize: pageSize, Now: f.clock.Now}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(p)
	return p, env
}

func TestPollerStartsEachThreatOnce(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p, env := newPollerEnv(f, st, 2) // small pages exercise the cursor
	now := f.clock.Now()

	// First poll: everything of the last hour.
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats,
		ingest.PollInput{State: since(now.Add(-time.Hour)), Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 10, res.Listed, "five new threats, and the same five on the changed stream")
	assert.Equal(t, 5, res.Started)
	assert.Zero(t, res.AlreadyStarted)
	assert.Empty(t, st.notified, "a new threat is not also reported as changed")
	assert.ElementsMatch(t, demoThreats, st.takeCalls(), "each demo threat started once (concurrently within a batch)")
	newest := now.Add(-2 * time.Minute) // the no-VSS ransomware, createdAgo 2m
	assert.True(t, res.State.Created.Since.Equal(newest), "Since = newest createdAt: got %v, want %v", res.State.Created.Since, newest)
	assert.Len(t, res.State.Created.Seen, 5, "all five are inside the overlap window")

	// Second poll: one page a stream, newest first: the threat at the cursor (the Seen set
	// keeps it from being started again) and the window's newest; the page's count of the
	// window matches the Seen set, so the rest of the window is not read again.
	f.clock.Advance(time.Minute)
	res2, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 2, res2.Requests, "one page a stream")
	assert.Equal(t, 4, res2.Listed, "two threats a page")
	assert.Equal(t, 2, res2.WindowChecks)
	assert.Zero(t, res2.WindowRelists+res2.Sweeps+res2.Late)
	assert.Zero(t, res2.Started)
	assert.Zero(t, res2.AlreadyStarted)
	assert.Empty(t, st.takeCalls(), "no start attempted for threats already seen")
	assert.True(t, res2.State.Created.Since.Equal(newest))

	// A new detection: only it is started.
	const newID = "1910000000000000200"
	require.NoError(t, f.sim.AddThreat(simtest.NewThreat(newID, simtest.AgentHR, "10s")))
	res3, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res2.State, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 4, res3.Requests, "the tail (the new threat, the one at the cursor) fills a page of 2, so each stream reads one more to reach the window")
	assert.Equal(t, 2, res3.WindowChecks)
	assert.Equal(t, 1, res3.Started)
	assert.Zero(t, res3.AlreadyStarted)
	assert.Equal(t, []string{newID}, st.takeCalls())
	want := f.clock.Now().Add(-10 * time.Second)
	assert.True(t, res3.State.Created.Since.Equal(want), "Since moved to the new threat: got %v, want %v", res3.State.Created.Since, want)
	assert.Contains(t, res3.State.Created.Seen, newID)
}

// Seen only holds what the overlap still re-reads; older entries are dropped, and the
// cursor alone keeps them out of the listing.
func TestPollerForgetsThreatsOutsideTheOverlap(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p, env := newPollerEnv(f, st, 0)
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats,
		ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: 3 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 5, res.Started)
	// Newest is 2m ago, so the window reaches back to 5m ago (inclusive): the adware (5m),
	// the miner (4m) and the no-VSS ransomware (2m) stay; 9m and 7m are dropped.
	assert.ElementsMatch(t, []string{simtest.ThreatAdware, simtest.ThreatMiner, simtest.ThreatNoVSS}, slices.Collect(maps.Keys(res.State.Created.Seen)))

	res2, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: 3 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 2, res2.Requests, "one page a stream, as before")
	assert.Equal(t, 6, res2.Listed, "the window and the threat at each cursor fit in one page")
	assert.Equal(t, 2, res2.WindowChecks)
	assert.Zero(t, res2.Started+res2.AlreadyStarted)
	assert.Len(t, st.takeCalls(), 5, "only the first poll tried to start anything")
}

func TestPollerCountsAlreadyStarted(t *testing.T) {
	f := newFixture(t)
	st := &starter{running: map[string]bool{simtest.ThreatMacro: true, simtest.ThreatMiner: true}}
	p, env := newPollerEnv(f, st, 0)
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats,
		ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 10, res.Listed)
	assert.Equal(t, 3, res.Started)
	assert.Equal(t, 2, res.AlreadyStarted)
	assert.Len(t, res.State.Created.Seen, 5, "already-started threats are seen too")
}

// A burst of detections is started concurrently, not one start call after another.
func TestPollerStartsABurstConcurrently(t *testing.T) {
	f := newFixture(t)
	st := &starter{gate: make(chan struct{})}
	p, env := newPollerEnv(f, st, 0)
	go func() {
		// Open the gate once the five demo threats are all in flight (or give up).
		deadline := time.Now().Add(5 * time.Second)
		for st.inFlight.Load() < 5 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		close(st.gate)
	}()
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats,
		ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 5, res.Started)
	assert.Equal(t, int32(5), st.maxIn.Load(), "all five starts were in flight at once")
}

// A failed start fails the poll without a result, so the poller keeps the old cursor
// and the next poll tries the threat again; the threats started before the failure
// are then found already started rather than lost or doubled.
func TestPollerStartErrorFailsThePoll(t *testing.T) {
	f := newFixture(t)
	st := &starter{failFor: map[string]int{simtest.ThreatAdware: 1}}
	p, env := newPollerEnv(f, st, 0)
	state := since(f.clock.Now().Add(-time.Hour))

	val, err := env.ExecuteActivity(p.ListAndStartThreats, ingest.PollInput{State: state, Overlap: time.Hour})
	require.Error(t, err)
	assert.ErrorContains(t, err, errStart.Error())
	appErr := activitytest.AppError(t, err)
	assert.False(t, appErr.NonRetryable(), "a failed start is transient")
	assert.True(t, val == nil || !val.HasValue(), "a failed poll returns no cursor")
	first := st.takeCalls()
	assert.Contains(t, first, simtest.ThreatAdware, "the failing start was tried")
	startedBefore := len(st.running)

	// The retry, from the same (unadvanced) cursor: what the failed poll started is
	// found already started, the rest is started now; nothing lost, nothing doubled.
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: state, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 10, res.Listed)
	assert.Equal(t, 5-startedBefore, res.Started, "the failed threat and those the failed poll did not reach")
	assert.Equal(t, startedBefore, res.AlreadyStarted, "those started before the failure")
	assert.GreaterOrEqual(t, res.Started, 1)
	assert.ElementsMatch(t, demoThreats, st.takeCalls())
	assert.Len(t, st.running, 5)
}

func TestPollerWrongTokenIsNotRetried(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p := &ingest.Poller{S1: activitytest.NewClient(t, f.url, "not-the-token-9d8c7b"), Investigations: st}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(p)
	_, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats,
		ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: time.Hour})
	activitytest.RequireNonRetryable(t, err, activities.ErrTypeS1Refused)
	assert.NotContains(t, err.Error(), "not-the-token-9d8c7b")
	assert.Empty(t, st.takeCalls())
}

// A threat changed in the console reaches its running investigation once per change; a
// change to a threat whose investigation has finished starts nothing.
func TestPollerRoutesConsoleChanges(t *testing.T) {
	f := newFixture(t)
	st := &starter{closed: map[string]bool{simtest.ThreatMiner: true}}
	p, env := newPollerEnv(f, st, 2)
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: time.Hour})
	require.NoError(t, err)
	require.Equal(t, 5, res.Started)
	assert.Empty(t, st.notified, "a new threat is not also reported as changed")
	st.takeCalls()

	// An analyst resolves two threats in the console.
	f.clock.Advance(time.Minute)
	_, err = f.s1.SetIncidentStatus(context.Background(), []string{simtest.ThreatMacro, simtest.ThreatMiner}, s1client.IncidentResolved, "")
	require.NoError(t, err)
	res2, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, []string{simtest.ThreatMacro}, st.notified, "the running investigation is told")
	assert.Equal(t, 1, res2.Notified)
	assert.Equal(t, 1, res2.Closed, "the finished one is left alone")
	assert.Zero(t, res2.Started)
	assert.Equal(t, []string{simtest.ThreatMiner}, st.takeCalls(), "only the finished one was offered a start, and refused")
	assert.True(t, res2.State.Updated.Since.Equal(f.clock.Now()), "the updated cursor moved to the change")

	// Polling again re-reads the change (overlap) but does not deliver it twice.
	res3, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res2.State, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Zero(t, res3.Notified+res3.Closed+res3.Started)
	assert.Len(t, st.notified, 1)
}

// A changed threat that never had an investigation (it became visible after the created
// stream had moved past it) gets one: the updated stream is the safety net.
func TestPollerStartsChangedThreatsThatWereNeverInvestigated(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p, env := newPollerEnv(f, st, 0)
	// The created cursor is already past every demo threat; the updated one is not.
	state := ingest.PollState{
		Created: ingest.StreamState{Since: f.clock.Now().Add(time.Hour)},
		Updated: ingest.StreamState{Since: f.clock.Now().Add(-time.Hour)},
	}
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: state, Overlap: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 5, res.Started)
	assert.ElementsMatch(t, demoThreats, st.takeCalls())
}

// A threat that becomes visible between the created stream's listing and the updated
// stream's is started by the updated stream; when the created stream lists it at the
// next poll, it is not new any more and no second start is tried.
func TestPollerDoesNotStartTwiceWhatTheUpdatedStreamStarted(t *testing.T) {
	f := newFixture(t)
	var hidden atomic.Bool
	hidden.Store(true)
	console := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("createdAt__gte") != "" && hidden.Load() {
			_, _ = w.Write([]byte(`{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`))
			return
		}
		f.sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(console.Close)
	st := &starter{}
	p, env := newPollerEnv(f, st, 0)
	p.S1 = activitytest.NewClient(t, console.URL, simtest.Token)
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: time.Hour})
	require.NoError(t, err)
	require.Equal(t, 5, res.Started, "the updated stream started them")
	st.takeCalls()

	hidden.Store(false)
	res2, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: res.State, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Zero(t, res2.AlreadyStarted)
	assert.Empty(t, st.takeCalls(), "no start tried again")
}

// Scope filters reach the console: an MSSP poller scoped to one account and one site of
// another account starts exactly those sites' threats.
func TestPollerHonoursScope(t *testing.T) {
	sc, err := scenario.LoadFS(scenarios.FS, "mssp")
	require.NoError(t, err)
	sim, err := simulator.New(sc, simulator.Options{Token: simtest.Token})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	st := &starter{}
	p := &ingest.Poller{S1: activitytest.NewClient(t, srv.URL, simtest.Token), Investigations: st}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(p)

	const fabrikam, tailspinStudio = "1882000000000000001", "1883000000000000102"
	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{
		State: since(time.Now().Add(-24 * time.Hour)), Overlap: time.Hour,
		Scope: ingest.Scope{AccountIDs: []string{fabrikam}},
	})
	require.NoError(t, err)
	started := st.takeCalls()
	assert.Len(t, started, 6, "Fabrikam's 4 New York and 2 London threats")
	for _, id := range started {
		assert.Regexp(t, `^19121|^19122`, id)
	}
	assert.Equal(t, 6, res.Started)

	_, err = activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{
		State: since(time.Now().Add(-24 * time.Hour)), Overlap: time.Hour,
		Scope: ingest.Scope{SiteIDs: []string{tailspinStudio}},
	})
	require.NoError(t, err)
	started = st.takeCalls()
	assert.Len(t, started, 2, "the two Tailspin Studio Macs")
	for _, id := range started {
		assert.Regexp(t, `^19124`, id)
	}
}

// When the cursor is lost (a poller workflow started anew) the created stream meets threats
// that are already being investigated; their console changes must still be delivered.
// (Found by the ingestion property test: marking them seen on the updated stream
// swallowed an analyst's "resolved".)
func TestPollerDeliversChangesOfAlreadyInvestigatedThreatsAfterACursorReset(t *testing.T) {
	f := newFixture(t)
	st := &starter{running: map[string]bool{simtest.ThreatRansomFS: true}}
	p, env := newPollerEnv(f, st, 0)
	f.clock.Advance(time.Minute)
	_, err := f.s1.SetIncidentStatus(context.Background(), []string{simtest.ThreatRansomFS}, s1client.IncidentResolved, "")
	require.NoError(t, err)

	res, err := activitytest.Run[ingest.PollResult](t, env, p.ListAndStartThreats, ingest.PollInput{State: since(f.clock.Now().Add(-time.Hour)), Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 1, res.AlreadyStarted)
	assert.Equal(t, []string{simtest.ThreatRansomFS}, st.notified, "the running investigation learns of the resolution")
}
