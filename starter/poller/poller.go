// Package poller wires SentinelOne ingestion: the Schedule that runs PollThreats, the
// activity's access to investigations (start one per threat, signal a running one), and
// the optional push endpoint.
package poller

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/workflows"
)

// New wires the poll activity to the investigations on taskQueue.
func New(c client.Client, s1 *s1client.Client, taskQueue string) *activities.Poller {
	return &activities.Poller{S1: s1, PageSize: 200, Investigations: Investigations{C: c, TaskQueue: taskQueue}}
}

// PollerThreatsRPS is the poller's share of the 10 rps GET /threats budget; the one
// worker that runs the SentinelOne activities keeps to the rest (80 % of the limit).
const PollerThreatsRPS = 2

// S1Client is the SentinelOne client of the poller process, with its /threats share.
func S1Client(cfg config.Config) (*s1client.Client, error) {
	limits := s1client.ScaledRateLimits(cfg.S1RateScale)
	scale := cfg.S1RateScale
	if scale <= 0 {
		scale = 1
	}
	limits[s1client.ClassThreats] = s1client.Limit{RPS: PollerThreatsRPS * scale, Burst: 5}
	c, err := s1client.New(cfg.S1URL, cfg.S1Token.Reveal(), s1client.WithRateLimits(limits))
	if err != nil {
		return nil, fmt.Errorf("SentinelOne client: %w", err)
	}
	return c, nil
}

// Investigations implements activities.Investigations on a Temporal client.
type Investigations struct {
	C         client.Client
	TaskQueue string
}

// Start starts the threat's one investigation.
func (i Investigations) Start(ctx context.Context, t s1client.Threat) (bool, error) {
	return workflows.StartInvestigation(ctx, i.C, i.TaskQueue, string(t.ID), workflows.StartHint{
		ThreatName: t.ThreatInfo.ThreatName, AgentName: t.AgentRealtimeInfo.AgentComputerName, SiteID: string(t.AgentRealtimeInfo.SiteID),
	})
}

// Notify signals the threat's running investigation with its console state.
func (i Investigations) Notify(ctx context.Context, t s1client.Threat) (bool, error) {
	ti := t.ThreatInfo
	err := i.C.SignalWorkflow(ctx, workflows.WorkflowID(string(t.ID)), "", workflows.ThreatUpdatedSignal, workflows.ConsoleState{
		UpdatedAt: ti.UpdatedAt.Time, IncidentStatus: ti.IncidentStatus, AnalystVerdict: ti.AnalystVerdict, MitigationStatus: ti.MitigationStatus,
	})
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return false, nil // no investigation, or it has finished
	case err != nil:
		return false, fmt.Errorf("signalling the investigation of threat %s: %w", t.ID, err)
	}
	return true, nil
}

// EnsureSchedule creates the poller Schedule, or updates its interval and input if it
// exists. The update keeps the Schedule's last completion result, so the cursor survives.
func EnsureSchedule(ctx context.Context, c client.Client, cfg config.Config) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: cfg.PollInterval}}}
	action := &client.ScheduleWorkflowAction{
		ID:       "s1copilot-poll",
		Workflow: workflows.PollWorkflow,
		Args: []any{workflows.PollInput{Lookback: cfg.PollLookback, Overlap: cfg.PollOverlap, Scope: activities.Scope{
			AccountIDs: cfg.ScopeAccountIDs, SiteIDs: cfg.ScopeSiteIDs, GroupIDs: cfg.ScopeGroupIDs,
		}}},
		TaskQueue:          workflows.PollerTaskQueue,
		WorkflowRunTimeout: 10 * time.Minute,
		StaticSummary:      "Poll SentinelOne for new and changed threats",
	}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:                 workflows.PollerScheduleID,
		Spec:               spec,
		Action:             action,
		Overlap:            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow:      time.Minute, // after downtime, poll once; the cursor covers the gap
		TriggerImmediately: true,
		Note:               "created by starter poll",
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("creating schedule %s: %w", workflows.PollerScheduleID, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, workflows.PollerScheduleID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec = &spec
		s.Action = action
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return fmt.Errorf("updating schedule %s: %w", workflows.PollerScheduleID, err)
	}
	return nil
}

// Copilot reads what the threat's finished investigation concluded and wrote back, for
// analyst feedback. A completed investigation's result is exact (verdict, analyzer, what
// it wrote to the console) and costs one Describe and one read of the close event, only
// for threats an analyst changed after the investigation ended. An investigation that
// failed or was terminated has no result: its S1Verdict search attribute (set once the
// analysis ran) stands in, with no analyzer and nothing written assumed but in_progress.
func (i Investigations) Copilot(ctx context.Context, threatID string) (feedback.Copilot, bool, error) {
	id := workflows.WorkflowID(threatID)
	desc, err := i.C.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return feedback.Copilot{}, false, nil
	case err != nil:
		return feedback.Copilot{}, false, fmt.Errorf("describing the investigation of threat %s: %w", threatID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	runID := info.GetExecution().GetRunId()
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return feedback.Copilot{}, false, nil // it records feedback itself
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		var res workflows.Result
		if err := i.C.GetWorkflow(ctx, id, runID).Get(ctx, &res); err != nil {
			return feedback.Copilot{}, false, fmt.Errorf("reading the result of the investigation of threat %s: %w", threatID, err)
		}
		if res.ThreatID == "" {
			res.ThreatID = threatID
		}
		return workflows.CopilotOf(runID, res), true, nil
	}
	cp := feedback.Copilot{InvestigationID: id, RunID: runID, Wrote: []feedback.Write{{IncidentStatus: "in_progress"}}}
	if p := info.GetSearchAttributes().GetIndexedFields()[workflows.VerdictKey.GetName()]; p != nil {
		var v string
		if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err == nil {
			cp.Verdict = investigation.Verdict(v)
		}
	}
	return cp, true, nil
}
