package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/logging"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/workflows"
)

// poll makes sure the poller Schedule exists with the configured interval, then hosts
// the poller's worker until stopped. Several replicas are safe: the Schedule is a
// singleton and runs one poll at a time.
func poll(ctx context.Context) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	z, err := logging.New(cfg.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = z.Sync() }()
	s1, err := s1client.New(cfg.S1URL, cfg.S1Token.Reveal())
	if err != nil {
		return fmt.Errorf("SentinelOne client: %w", err)
	}
	c, err := client.Dial(client.Options{HostPort: cfg.Temporal.Address, Namespace: cfg.Temporal.Namespace, Logger: logging.Temporal(z)})
	if err != nil {
		return fmt.Errorf("connecting to Temporal at %s: %w", cfg.Temporal.Address, err)
	}
	defer c.Close()

	w := worker.New(c, workflows.PollerTaskQueue, worker.Options{WorkerStopTimeout: 10 * time.Second})
	workflows.RegisterPoller(w, NewPoller(c, s1, cfg.Temporal.TaskQueue))
	if err := w.Start(); err != nil {
		return fmt.Errorf("starting poller worker: %w", err)
	}
	defer w.Stop()
	if err := EnsureSchedule(ctx, c, cfg); err != nil {
		return err
	}
	z.Info("Poller running.", zap.String("schedule", workflows.PollerScheduleID), zap.Duration("interval", cfg.PollInterval),
		zap.Duration("overlap", cfg.PollOverlap), zap.String("s1", cfg.S1URL))
	<-ctx.Done()
	z.Info("Stopping poller.")
	return nil
}

// NewPoller wires the poll activity to start investigations on taskQueue.
func NewPoller(c client.Client, s1 *s1client.Client, taskQueue string) *activities.Poller {
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
