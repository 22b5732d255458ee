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
	// Overlap is how far before the cursor each poll re-reads.
	Overlap time.Duration `json:"overlap"`
}

var p *activities.Poller

// PollThreats is one poll of SentinelOne, run by a Schedule. The cursor travels from one
// run to the next as the last completion result, which the Schedule keeps even when a
// run fails: a restarted poller neither misses nor repeats threats.
func PollThreats(ctx workflow.Context, in PollInput) (activities.PollResult, error) {
	state := activities.PollState{Since: workflow.Now(ctx).Add(-in.Lookback)}
	if workflow.HasLastCompletionResult(ctx) {
		var last activities.PollResult
		if err := workflow.GetLastCompletionResult(ctx, &last); err != nil {
			return activities.PollResult{}, err
		}
		state = last.State
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
		Summary:             "list new threats and start investigations",
	})
	var res activities.PollResult
	err := workflow.ExecuteActivity(ctx, p.ListAndStartThreats, activities.PollInput{State: state, Overlap: in.Overlap}).Get(ctx, &res)
	return res, err
}
