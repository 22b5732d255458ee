package workflows

import (
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/investigation"
)

// short is the option set for quick calls: one attempt is one HTTP call; transient
// failures retry for up to ten minutes, permanent ones fail at once.
func (inv *investigator) short(summary string) workflow.Context {
	return workflow.WithActivityOptions(inv.ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:                summary,
	})
}

// s1 is short for activities that call SentinelOne: they run on the SentinelOne task
// queue, which exactly one worker process serves, so its client's per-class limits
// hold for the whole fleet (the queue's server-side rate is only a backstop).
func (inv *investigator) s1(summary string) workflow.Context {
	ctx := inv.short(summary)
	if q := inv.settings.S1TaskQueue; q != "" {
		opts := workflow.GetActivityOptions(ctx)
		opts.TaskQueue = q
		ctx = workflow.WithActivityOptions(ctx, opts)
	}
	return ctx
}

// verifyOptions turn activity retries into the polling loop: each retry is one status
// read, not recorded in history, until the action settles or the budget runs out.
func (inv *investigator) verifyOptions(act investigation.Action) workflow.Context {
	if act == investigation.ActionCollectForensics {
		return inv.followForensicsOptions()
	}
	return workflow.WithActivityOptions(inv.ctx, workflow.ActivityOptions{
		// One status read: an attempt held by a worker that died should cost little of
		// the deadline (a last look follows the deadline anyway).
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: inv.settings.MitigationTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    inv.settings.MitigationPoll,
			BackoffCoefficient: 1.5,
			MaximumInterval:    4 * inv.settings.MitigationPoll,
		},
		TaskQueue: inv.settings.S1TaskQueue,
		Summary:   "verify " + string(act),
	})
}

// followForensicsOptions follow a collection task for the policy's forensics timeout.
// Its reads share /remote-scripts' 1 request per second with every other collection,
// so an attempt may wait its turn, and the polls back off to 15 s apart.
func (inv *investigator) followForensicsOptions() workflow.Context {
	poll := inv.settings.MitigationPoll
	return workflow.WithActivityOptions(inv.ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: inv.settings.Policy.Forensics.TimeoutOrDefault(),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    poll,
			BackoffCoefficient: 1.5,
			MaximumInterval:    max(4*poll, 15*time.Second),
		},
		TaskQueue: inv.settings.S1TaskQueue,
		Summary:   "follow forensic collection",
	})
}

// upsertWithNextStage holds search attributes for the next setStage, so that values
// that change together cost one upsert.
func (inv *investigator) upsertWithNextStage(updates ...temporal.SearchAttributeUpdate) {
	inv.nextUpsert = append(inv.nextUpsert, updates...)
}

// setStage records the stage, with any other search attributes that change at the
// same moment in the same upsert.
func (inv *investigator) setStage(s Stage, also ...temporal.SearchAttributeUpdate) {
	inv.status.Stage = s
	updates := append(append(inv.nextUpsert, also...), StageKey.ValueSet(string(s)))
	inv.nextUpsert = nil
	if err := workflow.UpsertTypedSearchAttributes(inv.ctx, updates...); err != nil {
		inv.log.Warn("Upserting search attributes failed.", "Error", err)
	}
	inv.updateDetails()
}

func (inv *investigator) updateDetails() {
	workflow.SetCurrentDetails(inv.ctx, currentDetails(inv.status))
}

// rootMessage is the innermost error message, without Temporal's wrapping noise.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return "timed out (" + strings.ToLower(strings.TrimPrefix(te.TimeoutType().String(), "TIMEOUT_TYPE_")) + ")"
	}
	return err.Error()
}
