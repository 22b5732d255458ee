package main

import (
	"context"
	"fmt"
	"time"

	"github.com/s1copilot/s1copilot/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The engine floor: a workflow that runs as many activities as an investigation, each
// doing nothing, on the same dev server. What it reaches is what Temporal allows on this
// machine; the investigations are measured against it.
const (
	noopWorkflowName = "BenchNoopInvestigation"
	floorTaskQueue   = "bench-floor"
)

func noopWorkflow(ctx workflow.Context, activities int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	for range activities {
		if err := workflow.ExecuteActivity(ctx, noopActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noopActivity(context.Context) error { return nil }

// runFloor starts n no-op workflows of k activities each and waits for them all.
func (b *bench) runFloor(ctx context.Context, n, k int) (phaseTiming, error) {
	c, err := b.namespaceClient("bench-floor")
	if err != nil {
		return phaseTiming{}, err
	}
	defer c.Close()
	// The same worker limits as the investigation worker (workflows.NewWorkers).
	w := worker.New(c, floorTaskQueue, worker.Options{MaxConcurrentActivityExecutionSize: workflows.InvestigationActivitySlots})
	w.RegisterWorkflowWithOptions(noopWorkflow, workflow.RegisterOptions{Name: noopWorkflowName})
	w.RegisterActivity(noopActivity)
	if err := w.Start(); err != nil {
		return phaseTiming{}, fmt.Errorf("starting the floor worker: %w", err)
	}
	defer w.Stop()

	err = parallel(ctx, n, 16, func(i int) error {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: fmt.Sprintf("bench-noop/%d", i), TaskQueue: floorTaskQueue,
		}, noopWorkflowName, k)
		return err
	})
	if err != nil {
		return phaseTiming{}, fmt.Errorf("starting no-op workflows: %w", err)
	}
	query := fmt.Sprintf("WorkflowType = '%s'", noopWorkflowName)
	if err := waitClosed(ctx, c, query, n, b.opts.phaseTimeout); err != nil {
		return phaseTiming{}, err
	}
	execs, err := listExecutions(ctx, c, query)
	if err != nil {
		return phaseTiming{}, err
	}
	return timingOf(execs), nil
}
