package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/config"
)

// ReportScheduleID is the Temporal Schedule that makes the SOC report.
const ReportScheduleID = "s1copilot-soc-report"

// EnsureReportSchedule creates the report's Schedule, or brings an existing one to
// the configuration (S1C_REPORT_SCHEDULE, S1C_REPORT_PERIOD), or deletes it when the
// configuration says off. Every worker calls it when it starts: the Schedule's ID
// makes it one per namespace, and its note records the configuration it was made
// from, so an unchanged one is left alone. It says what it did.
func EnsureReportSchedule(ctx context.Context, c client.Client, cfg config.Config) (string, error) {
	sched, err := config.ParseReportSchedule(cfg.Report.Schedule)
	if err != nil {
		return "", err
	}
	h := c.ScheduleClient().GetHandle(ctx, ReportScheduleID)
	if sched.Off {
		err := h.Delete(ctx)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			return "report schedule off", nil
		case err != nil:
			return "", fmt.Errorf("deleting the report schedule %s (S1C_REPORT_SCHEDULE=off): %w", ReportScheduleID, err)
		}
		return "report schedule off: deleted " + ReportScheduleID, nil
	}
	spec := client.ScheduleSpec{TimeZoneName: "UTC"}
	if sched.Cron != "" {
		spec.CronExpressions = []string{sched.Cron}
	} else {
		spec.Intervals = []client.ScheduleIntervalSpec{{Every: sched.Every}}
	}
	action := &client.ScheduleWorkflowAction{
		ID: ReportScheduleID, Workflow: SOCReportWorkflow, TaskQueue: cfg.Temporal.TaskQueue,
		Args:               []any{ReportInput{Period: cfg.Report.Period}},
		WorkflowRunTimeout: time.Hour,
		StaticSummary:      "SOC report of the last " + cfg.Report.Period.String(),
	}
	note := fmt.Sprintf("s1copilot: %s, period %s, queue %s", describeSchedule(sched), cfg.Report.Period, cfg.Temporal.TaskQueue)
	_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: ReportScheduleID, Spec: spec, Action: action, Note: note,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: time.Hour,
	})
	if err == nil {
		return "report schedule created: " + note, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return "", fmt.Errorf("creating the report schedule %s: %w", ReportScheduleID, err)
	}
	desc, err := h.Describe(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the report schedule %s: %w", ReportScheduleID, err)
	}
	if st := desc.Schedule.State; st != nil && st.Note == note {
		return "report schedule unchanged: " + note, nil
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec, s.Action = &spec, action
		paused := s.State != nil && s.State.Paused // an operator's pause stands
		s.State = &client.ScheduleState{Note: note, Paused: paused}
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return "", fmt.Errorf("updating the report schedule %s: %w", ReportScheduleID, err)
	}
	return "report schedule updated: " + note, nil
}

func describeSchedule(s config.ReportSchedule) string {
	if s.Cron != "" {
		return "cron " + s.Cron + " UTC"
	}
	return "every " + s.Every.String()
}
