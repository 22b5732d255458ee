package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/hunt"
)

const testGate = "test-dv-gate"

// huntRig is a test environment with the hunting activities mocked.
type huntRig struct {
	env *testsuite.TestWorkflowEnvironment
	mu  sync.Mutex
	// inits are the workflow-clock times of each init-query, by hunt ID.
	inits  map[string]time.Time
	audits []audit.Record
	state  activities.HuntQueryState
	refuse string
}

func newHuntRig(t *testing.T) *huntRig {
	var s testsuite.WorkflowTestSuite
	r := &huntRig{env: s.NewTestWorkflowEnvironment(), inits: map[string]time.Time{}, state: activities.HuntQueryState{State: "finished", Progress: 100}}
	env := r.env
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	env.RegisterActivity(&activities.Activities{})
	RegisterHunting(env)
	env.OnActivity(a.GetHuntSettings, mock.Anything).Return(activities.HuntSettings{
		S1TaskQueue: "s1", GateWorkflowID: testGate, GateTaskQueue: "inv", GateSpacing: activities.DefaultHuntSpacing, MaxEvents: 100,
	}, nil)
	env.OnActivity(a.TranslateHunt, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.TranslateHuntInput) (hunt.Translation, error) {
		return hunt.Translation{Query: `SrcProcName ContainsCIS "powershell"`, Language: hunt.S1QL, From: in.Request.Now.Add(-24 * time.Hour), To: in.Request.Now,
			Explanation: "PowerShell", Translator: "library", NamedHunt: "suspicious-powershell"}, nil
	})
	env.OnActivity(a.CheckHunt, mock.Anything, mock.Anything, mock.Anything).Return(func(context.Context, hunt.Translation, time.Time) (activities.CheckHuntResult, error) {
		return activities.CheckHuntResult{Refusal: r.refuse}, nil
	})
	env.OnActivity(a.InitHuntQuery, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.HuntQueryInput) (string, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.inits[in.HuntID] = env.Now()
		return "q-" + in.HuntID, nil
	}).After(2 * time.Second) // a real init-query takes a moment: the others queue meanwhile
	env.OnActivity(a.AwaitHuntQuery, mock.Anything, mock.Anything).Return(func(context.Context, activities.AwaitHuntQueryInput) (activities.HuntQueryState, error) {
		return r.state, nil
	})
	env.OnActivity(a.FetchHuntEvents, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FetchHuntInput) (activities.HuntSummary, error) {
		return activities.HuntSummary{Events: 3, Hosts: 2, JSONPath: "hunts/" + in.HuntID + ".json", CSVPath: "hunts/" + in.HuntID + ".csv"}, nil
	})
	env.OnActivity(a.SuggestFollowUps, mock.Anything, mock.Anything).Return([]string{"a", "b", "c"}, nil)
	env.OnActivity(a.RecordAudit, mock.Anything, mock.Anything).Return(func(_ context.Context, rs []audit.Record) error {
		for _, rec := range rs {
			if err := rec.Validate(); err != nil {
				return err
			}
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.audits = append(r.audits, rs...)
		return nil
	})
	env.OnActivity(a.CancelHuntQuery, mock.Anything, mock.Anything).Return(nil)
	return r
}

// harnessInput runs hunts as siblings of a gate, as on a real deployment.
type harnessInput struct {
	Hunts []HuntInput
	// Cancel is the index of a hunt to cancel after CancelAfter (-1: none).
	Cancel      int
	CancelAfter time.Duration
}

// huntHarness starts the gate and the hunts together and returns their results.
func huntHarness(ctx workflow.Context, in harnessInput) ([]HuntStatus, error) {
	gctx, stopGate := workflow.WithCancel(ctx)
	gctx = workflow.WithChildOptions(gctx, workflow.ChildWorkflowOptions{WorkflowID: testGate, WaitForCancellation: true})
	gate := workflow.ExecuteChildWorkflow(gctx, DVGateWorkflow, DVGateInput{Spacing: activities.DefaultHuntSpacing})
	if err := gate.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return nil, err
	}
	var futures []workflow.ChildWorkflowFuture
	for i, hin := range in.Hunts {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: HuntWorkflowID(hin.ID), WaitForCancellation: true})
		if i == in.Cancel {
			var cancel workflow.CancelFunc
			cctx, cancel = workflow.WithCancel(cctx)
			workflow.Go(ctx, func(ctx workflow.Context) {
				_ = workflow.Sleep(ctx, in.CancelAfter)
				cancel()
			})
		}
		futures = append(futures, workflow.ExecuteChildWorkflow(cctx, HuntWorkflow, hin))
		// Started a moment apart (activities take no time here), so the queue's order is known.
		if err := futures[i].GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			return nil, err
		}
		_ = workflow.Sleep(ctx, 100*time.Millisecond)
	}
	out := make([]HuntStatus, len(futures))
	for i, f := range futures {
		if err := f.Get(ctx, &out[i]); err != nil {
			out[i] = HuntStatus{ID: in.Hunts[i].ID, Outcome: HuntOutcome("error: " + err.Error())}
		}
	}
	stopGate()
	_ = gate.Get(ctx, nil)
	return out, nil
}

func runHarness(t *testing.T, r *huntRig, in harnessInput) []HuntStatus {
	t.Helper()
	r.env.RegisterWorkflow(huntHarness)
	r.env.ExecuteWorkflow(huntHarness, in)
	require.True(t, r.env.IsWorkflowCompleted())
	require.NoError(t, r.env.GetWorkflowError())
	var out []HuntStatus
	require.NoError(t, r.env.GetWorkflowResult(&out))
	return out
}

func threeHunts() []HuntInput {
	var ins []HuntInput
	for _, id := range []string{"h1", "h2", "h3"} {
		ins = append(ins, HuntInput{ID: id, Question: "suspicious PowerShell", Actor: "alice", Channel: "cli", Confirmed: true})
	}
	return ins
}

// Three hunts asked together run their init-queries at least a minute apart, in the
// order they joined the queue, each told its place in it.
func TestHuntsTakeTurnsAtInitQuery(t *testing.T) {
	r := newHuntRig(t)
	out := runHarness(t, r, harnessInput{Hunts: threeHunts(), Cancel: -1})
	byPlace := map[int]string{}
	for i, st := range out {
		assert.Equal(t, HuntFinished, st.Outcome, "hunt %d: %s", i+1, st.Reason)
		byPlace[st.JoinedAt] = st.ID
		assert.Equal(t, 3, st.Summary.Events)
		assert.Equal(t, []string{"a", "b", "c"}, st.FollowUps)
	}
	require.Len(t, byPlace, 3, "positions told: %v", byPlace)
	require.Contains(t, byPlace, 1)
	require.Contains(t, byPlace, 2)
	require.Contains(t, byPlace, 3)
	require.Len(t, r.inits, 3)
	first, second, third := r.inits[byPlace[1]], r.inits[byPlace[2]], r.inits[byPlace[3]]
	assert.GreaterOrEqual(t, second.Sub(first), 60*time.Second)
	assert.GreaterOrEqual(t, third.Sub(second), 60*time.Second)
	assert.Less(t, third.Sub(first), 3*time.Minute, "turns are not wasted")
}

// A hunt cancelled while queued leaves the queue: the one behind it moves up and runs
// a turn later, not two.
func TestACancelledHuntLeavesTheQueue(t *testing.T) {
	r := newHuntRig(t)
	out := runHarness(t, r, harnessInput{Hunts: threeHunts(), Cancel: 1, CancelAfter: 20 * time.Second})
	assert.Equal(t, HuntFinished, out[0].Outcome)
	assert.Equal(t, HuntCancelled, out[1].Outcome, out[1].Reason)
	assert.Equal(t, HuntFinished, out[2].Outcome)
	assert.NotContains(t, r.inits, "h2")
	d := r.inits["h3"].Sub(r.inits["h1"])
	assert.GreaterOrEqual(t, d, 60*time.Second)
	assert.Less(t, d, 90*time.Second, "h3 took h2's place")
	var outcomes []string
	for _, rec := range r.audits {
		if rec.InvestigationID == HuntWorkflowID("h2") {
			outcomes = append(outcomes, rec.ID+"="+rec.Decision)
		}
	}
	assert.Equal(t, []string{"s1-hunt/h2/outcome=cancelled"}, outcomes, "a cancelled hunt is audited, and ran no query")
}

// runAlone runs one hunt as the root workflow; the gate is simulated: it grants the
// turn at grantAt.
func runAlone(t *testing.T, r *huntRig, in HuntInput, grantAt time.Duration) HuntStatus {
	t.Helper()
	r.env.OnSignalExternalWorkflow(mock.Anything, testGate, "", mock.Anything, mock.Anything).Return(nil)
	r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(HuntTurnSignal, true) }, grantAt)
	r.env.ExecuteWorkflow(HuntWorkflow, in)
	require.True(t, r.env.IsWorkflowCompleted())
	require.NoError(t, r.env.GetWorkflowError())
	var st HuntStatus
	require.NoError(t, r.env.GetWorkflowResult(&st))
	return st
}

func TestAHuntWaitsForTheAnalystsConfirmation(t *testing.T) {
	r := newHuntRig(t)
	var early, answer error
	var stage HuntStatus
	r.env.RegisterDelayedCallback(func() {
		v, err := r.env.QueryWorkflow(HuntStatusQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&stage))
	}, 30*time.Second)
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(RunHuntUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { answer = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, HuntConfirmation{Run: true, By: "bob"})
	}, time.Minute)
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(RunHuntUpdate, "u2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { early = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, HuntConfirmation{Run: false, By: "mallory"})
	}, 90*time.Second)
	st := runAlone(t, r, HuntInput{ID: "h1", Question: "suspicious PowerShell", Actor: "alice"}, 2*time.Minute)
	assert.Equal(t, HuntAwaitingRun, stage.Stage)
	assert.Contains(t, stage.Translation.Query, "powershell", "the query is shown before it runs")
	assert.NoError(t, answer)
	assert.ErrorContains(t, early, "not awaiting confirmation", "a second answer comes too late")
	assert.Equal(t, HuntFinished, st.Outcome)
	assert.Equal(t, "bob", st.ConfirmedBy)
	require.Len(t, r.audits, 2)
	assert.Equal(t, "s1-hunt/h1/query", r.audits[0].ID)
	assert.Equal(t, "alice", r.audits[0].Actor)
	assert.Equal(t, audit.KindHunt, r.audits[0].Kind)
	assert.Equal(t, "finished", r.audits[1].Decision)
	require.NotNil(t, r.audits[1].HuntEvents)
	assert.Equal(t, 3, *r.audits[1].HuntEvents)
}

func TestAHuntNobodyConfirmsEnds(t *testing.T) {
	r := newHuntRig(t)
	st := runAlone(t, r, HuntInput{ID: "h1", Question: "q", Actor: "alice", ConfirmTimeout: 10 * time.Minute}, time.Hour)
	assert.Equal(t, HuntNotConfirmed, st.Outcome)
	assert.Empty(t, r.inits)
}

func TestARefusedQueryEndsTheHuntWithTheReason(t *testing.T) {
	r := newHuntRig(t)
	r.refuse = "query: unknown field Foo"
	st := runAlone(t, r, HuntInput{ID: "h1", Question: "q", Actor: "alice", Confirmed: true}, time.Minute)
	assert.Equal(t, HuntRefused, st.Outcome)
	assert.Equal(t, "query: unknown field Foo", st.Reason)
	assert.Empty(t, r.inits)
	require.Len(t, r.audits, 1)
	assert.Equal(t, "refused", r.audits[0].Decision)
}

func TestAFailedQueryIsReportedNotRetried(t *testing.T) {
	for state, want := range map[string]HuntOutcome{"failed": HuntQueryFailed, "expired": HuntQueryExpired, "cancelled": HuntQueryCanceled} {
		t.Run(state, func(t *testing.T) {
			r := newHuntRig(t)
			r.state = activities.HuntQueryState{State: state, Error: "boom"}
			st := runAlone(t, r, HuntInput{ID: "h1", Question: "q", Actor: "alice", Confirmed: true}, time.Minute)
			assert.Equal(t, want, st.Outcome)
			assert.Contains(t, st.Reason, "boom")
			assert.Nil(t, st.Summary)
		})
	}
}

func TestHuntInputIsValidated(t *testing.T) {
	r := newHuntRig(t)
	r.env.ExecuteWorkflow(HuntWorkflow, HuntInput{ID: "h1"})
	assert.ErrorContains(t, r.env.GetWorkflowError(), "needs a question")
}
