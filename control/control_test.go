package control

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	inv "github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func TestReserveCapsIsolationsPerHourAndDay(t *testing.T) {
	st := &State{}
	caps := policy.Caps{IsolationsPerHour: 2, IsolationsPerDay: 3}
	auto := func(at time.Time) ReserveResult {
		return st.reserve(at, ReserveRequest{Actions: []inv.Action{inv.ActionIsolate}, Auto: true, Caps: caps})
	}
	assert.Equal(t, []inv.Action{inv.ActionIsolate}, auto(t0).Granted)
	assert.Equal(t, []inv.Action{inv.ActionIsolate}, auto(t0.Add(time.Minute)).Granted)
	r := auto(t0.Add(2 * time.Minute))
	assert.Empty(t, r.Granted)
	assert.Contains(t, r.Denied[inv.ActionIsolate], "2 isolations in the last hour (cap 2)")

	// An hour later the hourly window is free again, but the day allows only one more.
	assert.Len(t, auto(t0.Add(61*time.Minute)).Granted, 1)
	r = auto(t0.Add(125 * time.Minute))
	assert.Contains(t, r.Denied[inv.ActionIsolate], "3 isolations in the last day (cap 3)")
	assert.Equal(t, policy.Usage{IsolationsLastHour: 0, IsolationsLastDay: 3}, r.Usage)
	// The next day everything is forgotten.
	assert.Len(t, auto(t0.Add(25*time.Hour)).Granted, 1)
	assert.Len(t, st.Isolations, 2, "state is pruned to the day window: only +61m and +25h remain")
}

func TestApprovedActionsCountButAreNeverRefused(t *testing.T) {
	st := &State{KillSwitch: true}
	caps := policy.Caps{IsolationsPerHour: 1}
	for range 3 {
		r := st.reserve(t0, ReserveRequest{Actions: []inv.Action{inv.ActionIsolate}, Caps: caps})
		assert.Equal(t, []inv.Action{inv.ActionIsolate}, r.Granted, "a human approved it")
	}
	st.KillSwitch = false
	r := st.reserve(t0, ReserveRequest{Actions: []inv.Action{inv.ActionIsolate}, Auto: true, Caps: caps})
	assert.Contains(t, r.Denied[inv.ActionIsolate], "3 isolations in the last hour", "approved isolations count toward the cap")
}

func TestAutoActionsPerMinuteAndKillSwitch(t *testing.T) {
	st := &State{}
	caps := policy.Caps{AutoActionsPerMinute: 3}
	r := st.reserve(t0, ReserveRequest{Actions: []inv.Action{inv.ActionKill, inv.ActionQuarantine, inv.ActionKill, inv.ActionQuarantine}, Auto: true, Caps: caps})
	assert.Len(t, r.Granted, 3)
	assert.Contains(t, r.Denied[inv.ActionQuarantine], "3 automatic actions in the last minute (cap 3)")
	assert.Len(t, st.reserve(t0.Add(61*time.Second), ReserveRequest{Actions: []inv.Action{inv.ActionKill}, Auto: true, Caps: caps}).Granted, 1)

	st.KillSwitch, st.KillSwitchBy, st.KillSwitchReason = true, "ciso@example.com", "bad model deploy"
	r = st.reserve(t0.Add(2*time.Minute), ReserveRequest{Actions: []inv.Action{inv.ActionKill}, Auto: true})
	assert.True(t, r.KillSwitch)
	assert.Empty(t, r.Granted)
	assert.Equal(t, "the kill switch is on (ciso@example.com: bad model deploy)", r.Denied[inv.ActionKill])
}

func TestNoCapsMeansNoLimit(t *testing.T) {
	st := &State{}
	for i := range 100 {
		r := st.reserve(t0.Add(time.Duration(i)*time.Second), ReserveRequest{Actions: []inv.Action{inv.ActionIsolate, inv.ActionKill}, Auto: true})
		require.Len(t, r.Granted, 2)
	}
}

func TestKillSwitchUpdateNeedsWhoAndWhyAndSurvivesContinueAsNew(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var refused error
	var after State
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(KillSwitchUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { refused = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, KillSwitchRequest{On: true})
		env.UpdateWorkflow(KillSwitchUpdate, "u2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("refused: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); after = v.(State) },
		}, KillSwitchRequest{On: true, Actor: "ciso@example.com", Reason: "model misbehaving"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(StateQuery)
		require.NoError(t, err)
		var st State
		require.NoError(t, v.Get(&st))
		assert.True(t, st.KillSwitch)
	}, 90*time.Second)
	env.ExecuteWorkflow(Workflow, State{})
	require.True(t, env.IsWorkflowCompleted())
	assert.ErrorContains(t, refused, "needs who (actor) and why (reason)")
	assert.True(t, after.KillSwitch)
	assert.Equal(t, "ciso@example.com", after.KillSwitchBy)
	// The run ends by continuing as new, carrying the switch.
	err := env.GetWorkflowError()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "continue as new")
}

func TestUncappedOnlyChecksTheKillSwitch(t *testing.T) {
	req := ReserveRequest{Actions: []inv.Action{inv.ActionKill, inv.ActionIsolate}, Auto: true}
	r := Uncapped(State{}, req)
	assert.Equal(t, []inv.Action{inv.ActionKill, inv.ActionIsolate}, r.Granted)
	assert.Empty(t, r.Denied)
	assert.False(t, r.KillSwitch)

	on := State{KillSwitch: true, KillSwitchBy: "ciso@example.com", KillSwitchReason: "bad model deploy"}
	r = Uncapped(on, req)
	assert.Empty(t, r.Granted)
	assert.True(t, r.KillSwitch)
	assert.Equal(t, "the kill switch is on (ciso@example.com: bad model deploy)", r.Denied[inv.ActionIsolate],
		"the same reason as a reservation the control workflow refuses")

	approved := Uncapped(on, ReserveRequest{Actions: []inv.Action{inv.ActionIsolate}})
	assert.Equal(t, []inv.Action{inv.ActionIsolate}, approved.Granted, "the kill switch stops automatic actions, not approved ones")
}
