package activities_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/s1client"
)

var demoThreats = []string{threatRansomFS, threatMacro, threatAdware, threatMiner, threatNoVSS}

// starter is a fake StartFunc that behaves like starting a workflow whose ID derives
// from the threat ID: a second start of the same threat reports started=false.
type starter struct {
	mu      sync.Mutex
	calls   []string        // every call, in order
	running map[string]bool // threats with an investigation
	failFor map[string]int  // threat ID -> how many more calls fail
}

var errStart = errors.New("temporal frontend unavailable")

func (s *starter) Start(ctx context.Context, t s1client.Threat) (bool, error) {
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

func newPollerEnv(f *fixture, st *starter, pageSize int) (*activities.Poller, *testsuite.TestActivityEnvironment) {
	p := &activities.Poller{S1: f.s1, Start: st.Start, PageSize: pageSize}
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
	res, err := run[activities.PollResult](t, env, p.ListAndStartThreats,
		activities.PollInput{State: activities.PollState{Since: now.Add(-time.Hour)}, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 5, res.Listed)
	assert.Equal(t, 5, res.Started)
	assert.Zero(t, res.AlreadyStarted)
	assert.Equal(t, demoThreats, st.takeCalls(), "each demo threat started once, oldest first")
	newest := now.Add(-2 * time.Minute) // the no-VSS ransomware, createdAgo 2m
	assert.True(t, res.State.Since.Equal(newest), "Since = newest createdAt: got %v, want %v", res.State.Since, newest)
	assert.Len(t, res.State.Seen, 5, "all five are inside the overlap window")

	// Second poll: the overlap re-reads all five; the Seen set keeps them from being started again.
	f.clock.Advance(time.Minute)
	res2, err := run[activities.PollResult](t, env, p.ListAndStartThreats, activities.PollInput{State: res.State, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 5, res2.Listed)
	assert.Zero(t, res2.Started)
	assert.Zero(t, res2.AlreadyStarted)
	assert.Empty(t, st.takeCalls(), "no start attempted for threats already seen")
	assert.True(t, res2.State.Since.Equal(newest))

	// A new detection: only it is started.
	const newID = "1910000000000000200"
	require.NoError(t, f.sim.AddThreat(newThreat(newID, agentHR, "10s")))
	res3, err := run[activities.PollResult](t, env, p.ListAndStartThreats, activities.PollInput{State: res2.State, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 6, res3.Listed)
	assert.Equal(t, 1, res3.Started)
	assert.Zero(t, res3.AlreadyStarted)
	assert.Equal(t, []string{newID}, st.takeCalls())
	want := f.clock.Now().Add(-10 * time.Second)
	assert.True(t, res3.State.Since.Equal(want), "Since moved to the new threat: got %v, want %v", res3.State.Since, want)
	assert.Contains(t, res3.State.Seen, newID)
}

// Seen only holds what the overlap still re-reads; older entries are dropped, and the
// cursor alone keeps them out of the listing.
func TestPollerForgetsThreatsOutsideTheOverlap(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p, env := newPollerEnv(f, st, 0)
	res, err := run[activities.PollResult](t, env, p.ListAndStartThreats,
		activities.PollInput{State: activities.PollState{Since: f.clock.Now().Add(-time.Hour)}, Overlap: 3 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 5, res.Started)
	// Newest is 2m ago, so the window reaches back to 5m ago (inclusive): the adware (5m),
	// the miner (4m) and the no-VSS ransomware (2m) stay; 9m and 7m are dropped.
	assert.ElementsMatch(t, []string{threatAdware, threatMiner, threatNoVSS}, slices.Collect(maps.Keys(res.State.Seen)))

	res2, err := run[activities.PollResult](t, env, p.ListAndStartThreats, activities.PollInput{State: res.State, Overlap: 3 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 3, res2.Listed, "only the overlap window is re-read")
	assert.Zero(t, res2.Started+res2.AlreadyStarted)
	assert.Len(t, st.takeCalls(), 5, "only the first poll tried to start anything")
}

func TestPollerCountsAlreadyStarted(t *testing.T) {
	f := newFixture(t)
	st := &starter{running: map[string]bool{threatMacro: true, threatMiner: true}}
	p, env := newPollerEnv(f, st, 0)
	res, err := run[activities.PollResult](t, env, p.ListAndStartThreats,
		activities.PollInput{State: activities.PollState{Since: f.clock.Now().Add(-time.Hour)}, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 5, res.Listed)
	assert.Equal(t, 3, res.Started)
	assert.Equal(t, 2, res.AlreadyStarted)
	assert.Len(t, res.State.Seen, 5, "already-started threats are seen too")
}

// A failed start fails the poll without a result, so the Schedule keeps the old cursor
// and the next poll tries the threat again; the threats started before the failure
// are then found already started rather than lost or doubled.
func TestPollerStartErrorFailsThePoll(t *testing.T) {
	f := newFixture(t)
	st := &starter{failFor: map[string]int{threatAdware: 1}}
	p, env := newPollerEnv(f, st, 0)
	state := activities.PollState{Since: f.clock.Now().Add(-time.Hour)}

	val, err := env.ExecuteActivity(p.ListAndStartThreats, activities.PollInput{State: state, Overlap: time.Hour})
	require.Error(t, err)
	assert.ErrorContains(t, err, errStart.Error())
	appErr := appError(t, err)
	assert.False(t, appErr.NonRetryable(), "a failed start is transient")
	assert.True(t, val == nil || !val.HasValue(), "a failed poll returns no cursor")
	assert.Equal(t, []string{threatRansomFS, threatMacro, threatAdware}, st.takeCalls(), "the poll stops at the failing start")

	// The retry, from the same (unadvanced) cursor.
	res, err := run[activities.PollResult](t, env, p.ListAndStartThreats, activities.PollInput{State: state, Overlap: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 5, res.Listed)
	assert.Equal(t, 3, res.Started, "the failed threat and the two after it")
	assert.Equal(t, 2, res.AlreadyStarted, "the two started before the failure")
	assert.Equal(t, demoThreats, st.takeCalls())
	assert.Len(t, st.running, 5)
}

func TestPollerWrongTokenIsNotRetried(t *testing.T) {
	f := newFixture(t)
	st := &starter{}
	p := &activities.Poller{S1: newClient(t, f.url, "not-the-token-9d8c7b"), Start: st.Start}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(p)
	_, err := run[activities.PollResult](t, env, p.ListAndStartThreats,
		activities.PollInput{State: activities.PollState{Since: f.clock.Now().Add(-time.Hour)}, Overlap: time.Hour})
	requireNonRetryable(t, err, activities.ErrTypeS1Refused)
	assert.NotContains(t, err.Error(), "not-the-token-9d8c7b")
	assert.Empty(t, st.takeCalls())
}
