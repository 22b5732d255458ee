package integration

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/workflows"
)

// buildBSteps counts the runs of the step build B adds.
var buildBSteps atomic.Int32

// buildBStep is the activity build B adds to the runbook.
func buildBStep(context.Context) error {
	buildBSteps.Add(1)
	return nil
}

func runBuildBStep(ctx workflow.Context) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	_ = workflow.ExecuteActivity(ctx, buildBStep).Get(ctx, nil)
}

// buildB is the investigation with a step added before its first one: the kind of
// change that would break every investigation already waiting for a human, made the
// way README "Changing the workflow safely" says, behind workflow.GetVersion.
func buildB(ctx workflow.Context, in workflows.Input) (workflows.Result, error) {
	if workflow.GetVersion(ctx, "it-build-b-step", workflow.DefaultVersion, 1) == 1 {
		runBuildBStep(ctx)
	}
	return workflows.InvestigateThreat(ctx, in)
}

// buildBUnguarded is the same change without the guard.
func buildBUnguarded(ctx workflow.Context, in workflows.Input) (workflows.Result, error) {
	runBuildBStep(ctx)
	return workflows.InvestigateThreat(ctx, in)
}

// replaceWorker stops the stack's investigation workers (build A) and starts build B's
// in their place, on the same task queues: a rolling deploy.
func (s *stack) replaceWorker(build func(workflow.Context, workflows.Input) (workflows.Result, error)) {
	for _, w := range s.workers {
		w.Stop()
	}
	queues := []string{s.cfg.Temporal.TaskQueue, s.cfg.Temporal.S1TaskQueue, s.cfg.Temporal.ControlTaskQueue()}
	s.workers = nil
	for i, q := range queues {
		w := worker.New(s.c, q, worker.Options{Identity: "build-b"})
		if i == 0 {
			w.RegisterWorkflowWithOptions(build, workflow.RegisterOptions{Name: workflows.InvestigateWorkflow})
			w.RegisterActivity(buildBStep)
		} else if i == 2 {
			workflows.RegisterControl(w)
		}
		w.RegisterActivity(s.acts)
		require.NoError(s.t, w.Start())
		s.t.Cleanup(w.Stop)
		s.workers = append(s.workers, w)
	}
}

// An investigation waiting for approval on build A is approved after the worker was
// replaced by build B, whose workflow changed: it completes as build A would have
// (the new step is skipped for it), while a new investigation takes the new step.
// The same change without its guard stops the waiting investigation with a
// non-determinism error: the test proves the guard, not luck.
func TestAWaitingInvestigationSurvivesAWorkflowChange(t *testing.T) {
	s := newStack(t, stackOptions{})
	const macro, miner = "1910000000000000002", "1910000000000000004" // both wait for a human
	for _, id := range []string{macro, miner} {
		_, err := s.inv.Start(s.ctx, id, workflows.StartHint{})
		require.NoError(t, err)
	}
	for _, id := range []string{macro, miner} {
		waitUntil(t, s.ctx, id+" waits for approval on build A", func() bool {
			st, running := s.stage(id)
			return running && st == string(workflows.StageAwaitingApproval)
		})
	}

	t.Run("guarded", func(t *testing.T) {
		s.replaceWorker(buildB)
		s.approve(macro)
		waitUntil(t, s.ctx, "the approved investigation completes on build B", func() bool { return !s.anyRunning([]string{macro}) })
		assert.Equal(t, workflows.OutcomeMitigated, s.result(macro).Outcome)
		assert.Zero(t, buildBSteps.Load(), "the investigation begun on build A keeps build A's steps")

		const fresh = "1910000000000000003"
		_, err := s.inv.Start(s.ctx, fresh, workflows.StartHint{})
		require.NoError(t, err)
		waitUntil(t, s.ctx, "a new investigation completes on build B", func() bool { return !s.anyRunning([]string{fresh}) })
		assert.Equal(t, int32(1), buildBSteps.Load(), "a new investigation takes build B's step")
	})

	t.Run("unguarded", func(t *testing.T) {
		s.replaceWorker(buildBUnguarded)
		// A signal: an update would be refused while the workflow task keeps failing.
		require.NoError(t, s.c.SignalWorkflow(s.ctx, workflows.WorkflowID(miner), "", workflows.ApprovalSignal,
			workflows.Decision{Approved: true, Approver: "it-analyst", Reason: "integration test"}))
		waitUntil(t, s.ctx, "the unguarded change fails the waiting investigation's workflow task", func() bool {
			return s.workflowTaskFailed(workflows.WorkflowID(miner), enums.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR)
		})
		st, running := s.stage(miner)
		assert.True(t, running, "it is stuck, not finished")
		assert.Equal(t, string(workflows.StageAwaitingApproval), st)
		assert.Empty(t, s.sim.Counters().Mitigations[miner], "nothing was done on the miner")
	})
}

// workflowTaskFailed says whether a workflow task of the execution failed with cause.
func (s *stack) workflowTaskFailed(workflowID string, cause enums.WorkflowTaskFailedCause) bool {
	it := s.c.GetWorkflowHistory(s.ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(s.t, err)
		if a := ev.GetWorkflowTaskFailedEventAttributes(); a != nil && a.GetCause() == cause {
			return true
		}
	}
	return false
}
