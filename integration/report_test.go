package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	enums "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/workflows"
)

// TestSOCReportEndToEnd investigates the demo scenario on a real dev server, then makes
// the report of that hour from Temporal visibility, the audit log and the simulator, and
// replays the report's history (kept as a fixture with S1C_UPDATE_HISTORIES=1).
func TestSOCReportEndToEnd(t *testing.T) {
	dir := t.TempDir()
	auditFile := filepath.Join(dir, "audit.jsonl")
	reports := filepath.Join(dir, "reports")
	s := newStack(t, stackOptions{config: func(c *config.Config) {
		c.Report.Dir, c.Report.AuditFiles = reports, []string{auditFile}
	}})
	s.startPoller()
	approved := map[string]bool{}
	waitUntil(t, s.ctx, "every investigation finished", func() bool {
		s.approveWaiting(s.threatIDs, approved)
		return len(s.investigations()) == len(s.threatIDs) && !s.anyRunning(s.threatIDs)
	})
	require.NoError(t, os.WriteFile(auditFile, []byte(s.audit.String()), 0o600))

	in := workflows.ReportInput{Period: time.Hour, End: time.Now().UTC().Add(time.Minute).Truncate(time.Minute)}
	res := s.runReport(t, "soc-report-it", in)
	n := len(s.threatIDs)
	assert.Equal(t, n, res.Investigations)
	assert.Equal(t, "rules", res.SummaryBy)
	assert.Equal(t, "Slack not configured", res.Slack)
	md, err := os.ReadFile(res.Files.Markdown)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(reports, res.ReportID+".md"), res.Files.Markdown)
	assert.Contains(t, string(md), fmt.Sprintf("%d investigations", n))
	assert.Contains(t, string(md), fmt.Sprintf("| time to triage | %d |", n), "every triage record carries the threat's creation time")
	assert.Contains(t, string(md), "_Summary written by rules; no model configured._")
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	assert.Contains(t, string(md), "| "+sc.Threats[0].ThreatName+" |", "threat names come from SentinelOne")
	page, err := os.ReadFile(res.Files.HTML)
	require.NoError(t, err)
	assert.Contains(t, string(page), `id="chart-outcomes"`)
	assert.NotContains(t, string(md)+string(page), token)

	// Again, as a retry would: the same files, nothing added.
	again := s.runReport(t, "soc-report-it-again", in)
	assert.Equal(t, res.Files, again.Files)
	entries, err := os.ReadDir(reports)
	require.NoError(t, err)
	assert.Len(t, entries, 2)

	h := &historypb.History{}
	it := s.c.GetWorkflowHistory(s.ctx, "soc-report-it", "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	r := worker.NewWorkflowReplayer()
	workflows.RegisterReplay(r)
	require.NoError(t, workflows.ReplayHistory(r, h))
	if os.Getenv("S1C_UPDATE_HISTORIES") != "" {
		data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("..", "workflows", "testdata", "soc-report.json"), data, 0o644))
	}
}

func (s *stack) runReport(t *testing.T, id string, in workflows.ReportInput) workflows.ReportResult {
	t.Helper()
	run, err := s.c.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.cfg.Temporal.TaskQueue}, workflows.SOCReportWorkflow, in)
	require.NoError(t, err)
	var res workflows.ReportResult
	require.NoError(t, run.Get(s.ctx, &res))
	return res
}

// TestReportScheduleIsCreatedUpdatedAndNeverDuplicated ensures the schedule as workers
// do when they start: created once, left alone when unchanged, updated in place when
// the configuration changes, deleted when it says off.
func TestReportScheduleIsCreatedUpdatedAndNeverDuplicated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startDevServer(t, ctx, nil).Client()
	cfg := config.Defaults()
	cfg.Temporal.TaskQueue = "s1copilot-it"
	cfg.Report.Schedule, cfg.Report.Period = "0 8 * * 1", 168*time.Hour

	said, err := workflows.EnsureReportSchedule(ctx, c, cfg)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(said, "report schedule created"), said)
	said, err = workflows.EnsureReportSchedule(ctx, c, cfg)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(said, "report schedule unchanged"), said)

	cfg.Report.Schedule, cfg.Report.Period = "24h", 24*time.Hour
	said, err = workflows.EnsureReportSchedule(ctx, c, cfg)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(said, "report schedule updated"), said)
	desc, err := c.ScheduleClient().GetHandle(ctx, workflows.ReportScheduleID).Describe(ctx)
	require.NoError(t, err)
	require.Len(t, desc.Schedule.Spec.Intervals, 1)
	assert.Equal(t, 24*time.Hour, desc.Schedule.Spec.Intervals[0].Every)
	assert.Empty(t, desc.Schedule.Spec.Calendars, "the weekly spec was replaced, not kept beside the new one")
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	assert.Equal(t, workflows.SOCReportWorkflow, action.Workflow)

	schedules := 0
	list, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	require.NoError(t, err)
	for list.HasNext() {
		e, err := list.Next()
		require.NoError(t, err)
		if strings.HasPrefix(e.ID, workflows.ReportScheduleID) {
			schedules++
		}
	}
	assert.Equal(t, 1, schedules)

	cfg.Report.Schedule = "off"
	said, err = workflows.EnsureReportSchedule(ctx, c, cfg)
	require.NoError(t, err)
	assert.Contains(t, said, "deleted")
	said, err = workflows.EnsureReportSchedule(ctx, c, cfg)
	require.NoError(t, err)
	assert.Equal(t, "report schedule off", said)
}
