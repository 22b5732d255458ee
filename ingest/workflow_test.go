package ingest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/ingest"
)

// pollerWorkflow runs the poller workflow with a scripted poll activity: poll n answers
// answers[n] (an error fails that poll after its retries), and records its input.
type pollerWorkflow struct {
	env    *testsuite.TestWorkflowEnvironment
	mu     sync.Mutex
	inputs []ingest.PollInput
	at     []time.Time
}

func newPollerWorkflow(t *testing.T, answer func(n int, in ingest.PollInput) (ingest.PollResult, error)) *pollerWorkflow {
	var s testsuite.WorkflowTestSuite
	pe := &pollerWorkflow{env: s.NewTestWorkflowEnvironment()}
	pe.env.RegisterWorkflowWithOptions(ingest.PollThreats, workflow.RegisterOptions{Name: ingest.PollWorkflow})
	var p *ingest.Poller
	pe.env.RegisterActivity(p)
	pe.env.OnActivity(p.ListAndStartThreats, mock.Anything, mock.Anything).Return(func(_ context.Context, in ingest.PollInput) (ingest.PollResult, error) {
		pe.mu.Lock()
		n := len(pe.inputs)
		pe.inputs = append(pe.inputs, in)
		pe.at = append(pe.at, pe.env.Now())
		pe.mu.Unlock()
		return answer(n, in)
	})
	return pe
}

// cursorAt is a poll result whose cursors moved to minute m.
func cursorAt(m int, started int) ingest.PollResult {
	at := time.Date(2025, 3, 1, 12, m, 0, 0, time.UTC)
	return ingest.PollResult{State: ingest.PollState{Created: ingest.StreamState{Since: at}, Updated: ingest.StreamState{Since: at}}, Listed: started, Started: started}
}

var errList = errors.New("list new threats: 503")

// One workflow polls on its interval and carries the cursor from poll to poll; a failed
// poll leaves the cursor where it was, so the next one covers what it missed.
func TestPollerWorkflowCarriesTheCursor(t *testing.T) {
	pe := newPollerWorkflow(t, func(n int, in ingest.PollInput) (ingest.PollResult, error) {
		switch n {
		case 1:
			return ingest.PollResult{}, temporal.NewNonRetryableApplicationError(errList.Error(), "test", errList)
		case 3:
			return ingest.PollResult{}, temporal.NewNonRetryableApplicationError("stop", "test", nil)
		}
		return cursorAt(n, 1), nil
	})
	var status ingest.PollerStatus
	pe.env.RegisterDelayedCallback(func() {
		v, err := pe.env.QueryWorkflow(ingest.StatusQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&status))
		pe.env.CancelWorkflow()
	}, 3*time.Minute+30*time.Second)
	settings := ingest.Settings{Interval: time.Minute, Lookback: time.Hour, Overlap: 5 * time.Minute}
	pe.env.ExecuteWorkflow(ingest.PollThreats, ingest.PollerInput{Settings: settings})

	require.GreaterOrEqual(t, len(pe.inputs), 4)
	first := pe.inputs[0].State.Created.Since
	assert.True(t, pe.at[0].Add(-time.Hour).Equal(first), "the first poll backfills the lookback window: %v", first)
	assert.Equal(t, 5*time.Minute, pe.inputs[0].Overlap)
	assert.Equal(t, cursorAt(0, 0).State, pe.inputs[1].State, "poll 2 starts where poll 1 ended")
	assert.Equal(t, cursorAt(0, 0).State, pe.inputs[2].State, "the failed poll 2 did not move the cursor")
	assert.Equal(t, cursorAt(2, 0).State, pe.inputs[3].State)
	for i := 1; i < 4; i++ {
		assert.Equal(t, time.Minute, pe.at[i].Sub(pe.at[i-1]).Round(time.Second), "poll %d starts an interval after the one before", i+1)
	}
	assert.Equal(t, 2, status.Totals.Started)
	assert.GreaterOrEqual(t, status.Totals.FailedPolls, 1)
	assert.Contains(t, status.LastError, "stop")
}

// New settings reach the running poller: a shorter interval takes effect at once.
func TestPollerWorkflowTakesNewSettings(t *testing.T) {
	pe := newPollerWorkflow(t, func(n int, _ ingest.PollInput) (ingest.PollResult, error) { return cursorAt(n, 0), nil })
	pe.env.RegisterDelayedCallback(func() {
		pe.env.SignalWorkflow(ingest.ConfigureSignal, ingest.Settings{Interval: 10 * time.Second, Overlap: time.Minute})
	}, time.Minute)
	pe.env.RegisterDelayedCallback(pe.env.CancelWorkflow, 2*time.Minute)
	pe.env.ExecuteWorkflow(ingest.PollThreats, ingest.PollerInput{Settings: ingest.Settings{Interval: time.Hour, Lookback: time.Hour}})

	require.GreaterOrEqual(t, len(pe.inputs), 3)
	assert.Equal(t, time.Minute, pe.at[1].Sub(pe.at[0]).Round(time.Second), "the hour-long wait ended when the settings came (10 s had passed)")
	assert.Equal(t, 10*time.Second, pe.at[2].Sub(pe.at[1]).Round(time.Second), "then every 10 s")
	assert.Equal(t, time.Minute, pe.inputs[1].Overlap)
}

// The poller continues as new after a bounded number of polls, carrying its cursors
// and totals, so its history (and the Web UI's list) stays short.
func TestPollerWorkflowContinuesAsNew(t *testing.T) {
	pe := newPollerWorkflow(t, func(n int, _ ingest.PollInput) (ingest.PollResult, error) { return cursorAt(n%60, 1), nil })
	pe.env.ExecuteWorkflow(ingest.PollThreats, ingest.PollerInput{Settings: ingest.Settings{Interval: time.Second, Lookback: time.Hour}})

	require.True(t, pe.env.IsWorkflowCompleted())
	err := pe.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can)
	polls := len(pe.inputs)
	assert.Less(t, polls, 1000, "a run is bounded")
	var next ingest.PollerInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	assert.Equal(t, polls, next.Totals.Polls)
	assert.Equal(t, polls, next.Totals.Started)
	assert.Equal(t, cursorAt((polls-1)%60, 0).State, next.State, "the cursor travels to the next run")
	assert.Equal(t, time.Second, next.Settings.Interval)
}
