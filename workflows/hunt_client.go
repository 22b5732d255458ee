package workflows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Hunts is the client side of the deployment's hunts: what the CLI and the Slack bot
// do with them.
type Hunts struct {
	Client client.Client
	// TaskQueue is the deployment's investigation task queue, where hunts run.
	TaskQueue string
}

// NewHuntID returns a fresh hunt ID: the UTC time (sortable in a directory listing)
// and a random suffix.
func NewHuntID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "h-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// Start starts a hunt (in.ID set by the caller, e.g. NewHuntID). A hunt ID is used once.
func (h Hunts) Start(ctx context.Context, in HuntInput) error {
	if err := validHuntInput(in); err != nil {
		return err
	}
	_, err := h.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       HuntWorkflowID(in.ID),
		TaskQueue:                                h.TaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowExecutionTimeout:                 MaxHunt,
		StaticSummary:                            "Hunt " + in.ID + " asked by " + in.Actor,
	}, HuntWorkflow, in)
	if err != nil {
		return fmt.Errorf("starting hunt %s: %w", in.ID, err)
	}
	return nil
}

// Status reads a hunt's status (running or finished).
func (h Hunts) Status(ctx context.Context, id string) (HuntStatus, error) {
	v, err := h.Client.QueryWorkflow(ctx, HuntWorkflowID(id), "", HuntStatusQuery)
	if err != nil {
		return HuntStatus{}, fmt.Errorf("querying hunt %s: %w", id, err)
	}
	var st HuntStatus
	if err := v.Get(&st); err != nil {
		return HuntStatus{}, fmt.Errorf("decoding the status of hunt %s: %w", id, err)
	}
	return st, nil
}

// Confirm answers a hunt awaiting confirmation: run its query, or not. The update's
// ID is derived from the hunt, so a double click is one answer.
func (h Hunts) Confirm(ctx context.Context, id string, c HuntConfirmation) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, DecideTimeout)
	defer cancel()
	handle, err := h.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: HuntWorkflowID(id), UpdateID: "confirm-" + id, UpdateName: RunHuntUpdate, Args: []any{c},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var out string
	if err == nil {
		err = handle.Get(ctx, &out)
	}
	var app *temporal.ApplicationError
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, context.DeadlineExceeded):
		return "", fmt.Errorf("hunt %s: %w", id, ErrNoWorkerAnswered)
	case errors.As(err, &app):
		return "", &RefusedError{Reason: app.Message()}
	}
	return "", fmt.Errorf("confirming hunt %s: %w", id, err)
}

// Cancel cancels a hunt (it leaves the queue, or its query is cancelled).
func (h Hunts) Cancel(ctx context.Context, id string) error {
	if err := h.Client.CancelWorkflow(ctx, HuntWorkflowID(id), ""); err != nil {
		return fmt.Errorf("cancelling hunt %s: %w", id, err)
	}
	return nil
}

// Result waits for a hunt to end and returns its final status.
func (h Hunts) Result(ctx context.Context, id string) (HuntStatus, error) {
	var st HuntStatus
	if err := h.Client.GetWorkflow(ctx, HuntWorkflowID(id), "").Get(ctx, &st); err != nil {
		return HuntStatus{}, fmt.Errorf("hunt %s: %w", id, err)
	}
	return st, nil
}
