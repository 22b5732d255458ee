package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
)

// PollInput configures the poller; the Schedule passes the same input to every run.
type PollInput struct {
	// Lookback is how far back the very first poll reads.
	Lookback time.Duration `json:"lookback"`
	// Overlap is how far before the cursors each poll re-reads.
	Overlap time.Duration `json:"overlap"`
	// Scope limits ingestion to some accounts, sites or groups.
	Scope activities.Scope `json:"scope"`
}

var p *activities.Poller

// PollThreats is one poll of SentinelOne, run by a Schedule: the stream of new threats
// and the stream of changed threats, each with its own cursor. The cursors travel from one
// run to the next as the last completion result, which the Schedule keeps even when a
// run fails: a restarted poller neither misses nor repeats threats.
func PollThreats(ctx workflow.Context, in PollInput) (activities.PollResult, error) {
	var state activities.PollState
	if workflow.HasLastCompletionResult(ctx) {
		var last activities.PollResult
		if err := workflow.GetLastCompletionResult(ctx, &last); err != nil {
			return activities.PollResult{}, err
		}
		state = last.State
	}
	// First run (or a Schedule created anew): backfill the lookback window.
	start := workflow.Now(ctx).Add(-in.Lookback)
	if state.Created.Since.IsZero() {
		state.Created.Since = start
	}
	if state.Updated.Since.IsZero() {
		state.Updated.Since = start
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
		Summary:             "list new threats and start investigations",
	})
	var res activities.PollResult
	err := workflow.ExecuteActivity(ctx, p.ListAndStartThreats, activities.PollInput{State: state, Overlap: in.Overlap, Scope: in.Scope}).Get(ctx, &res)
	return res, err
}
