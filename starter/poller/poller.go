// Package poller wires the SentinelOne poller: the Schedule that runs PollThreats and
// the activity that starts one investigation per threat.
package poller

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/workflows"
)

// New wires the poll activity to start investigations on taskQueue.
func New(c client.Client, s1 *s1client.Client, taskQueue string) *activities.Poller {
	return &activities.Poller{S1: s1, PageSize: 200, Start: func(ctx context.Context, t s1client.Threat) (bool, error) {
		return workflows.StartInvestigation(ctx, c, taskQueue, string(t.ID), workflows.StartHint{
			ThreatName: t.ThreatInfo.ThreatName, AgentName: t.AgentRealtimeInfo.AgentComputerName, SiteID: string(t.AgentRealtimeInfo.SiteID),
		})
	}}
}

// EnsureSchedule creates the poller Schedule, or updates its interval and input if it
// exists. The update keeps the Schedule's last completion result, so the cursor survives.
func EnsureSchedule(ctx context.Context, c client.Client, cfg config.Config) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: cfg.PollInterval}}}
	action := &client.ScheduleWorkflowAction{
		ID:                 "s1copilot-poll",
		Workflow:           workflows.PollWorkflow,
		Args:               []any{workflows.PollInput{Lookback: cfg.PollLookback, Overlap: cfg.PollOverlap}},
		TaskQueue:          workflows.PollerTaskQueue,
		WorkflowRunTimeout: 10 * time.Minute,
		StaticSummary:      "Poll SentinelOne for new threats",
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
