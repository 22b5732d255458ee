package workflows

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/report"
)

// The report reads the search attributes by name; they must be the investigation's.
func TestReportReadsTheInvestigationsSearchAttributes(t *testing.T) {
	assert.Equal(t, InvestigateWorkflow, report.InvestigationType)
	for key, name := range map[string]string{
		ThreatIDKey.GetName(): report.AttrThreatID, VerdictKey.GetName(): report.AttrVerdict, PriorityKey.GetName(): report.AttrPriority,
		StageKey.GetName(): report.AttrStage, OutcomeKey.GetName(): report.AttrOutcome, SiteIDKey.GetName(): report.AttrSiteID,
		AgentNameKey.GetName(): report.AttrAgentName,
	} {
		assert.Equal(t, key, name)
	}
	_, ok := ThreatIDFromWorkflowID("s1-threat/x")
	assert.True(t, ok, "report.investigationOf derives threat IDs from this prefix")
}

func TestSOCReportReadsEverySourceThenWritesAndPosts(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(SOCReport, workflow.RegisterOptions{Name: SOCReportWorkflow})
	env.RegisterActivity(&report.Activities{})
	end := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	window := report.Window{From: end.Add(-7 * 24 * time.Hour), To: end}

	env.OnActivity(ra.ReportSettings, mock.Anything).Return(report.Settings{Dir: "reports", Slack: true, S1TaskQueue: "s1-queue"}, nil)
	// 1,500 investigations over two visibility pages (one threat investigated twice).
	page := func(from, to int) []report.Investigation {
		var out []report.Investigation
		for i := from; i < to; i++ {
			id := fmt.Sprintf("t%04d", i)
			if i == 1499 {
				id = "t0000"
			}
			out = append(out, report.Investigation{WorkflowID: WorkflowID(id), ThreatID: id, Verdict: "true_positive", Outcome: "mitigated", Status: "Completed", Start: window.From.Add(time.Hour), Close: window.From.Add(2 * time.Hour)})
		}
		return out
	}
	env.OnActivity(ra.ReportListInvestigations, mock.Anything, report.ListInput{Window: window}).Return(report.ListPage{Investigations: page(0, 1000), NextPageToken: []byte("p2")}, nil).Once()
	env.OnActivity(ra.ReportListInvestigations, mock.Anything, report.ListInput{Window: window, PageToken: []byte("p2")}).Return(report.ListPage{Investigations: page(1000, 1500)}, nil).Once()
	env.OnActivity(ra.ReportReadAudit, mock.Anything, mock.Anything).Return(func(_ context.Context, in report.AuditInput) (report.AuditRead, error) {
		assert.Len(t, in.InvestigationIDs, 1500)
		assert.Equal(t, window.From, in.Since)
		return report.AuditRead{Trails: []report.Trail{{InvestigationID: WorkflowID("t0001"), TriagedAt: window.From.Add(time.Hour), ThreatCreatedAt: window.From.Add(55 * time.Minute)}}}, nil
	})
	var detailPages []int
	env.OnActivity(ra.ReportThreatDetails, mock.Anything, mock.Anything).Return(func(ctx context.Context, ids []string) ([]report.Threat, error) {
		assert.Equal(t, "s1-queue", activity.GetInfo(ctx).TaskQueue, "SentinelOne is read on its own task queue")
		detailPages = append(detailPages, len(ids))
		return []report.Threat{{ID: ids[0], Name: "invoice.docm"}}, nil
	})
	env.OnActivity(ra.ReportSummarize, mock.Anything, mock.Anything).Return(report.Summary{}, errors.New("model down"))
	var written report.WriteInput
	env.OnActivity(ra.ReportWrite, mock.Anything, mock.Anything).Return(func(_ context.Context, in report.WriteInput) (report.Written, error) {
		written = in
		return report.Written{Markdown: "/r/x.md", HTML: "/r/x.html"}, nil
	})
	env.OnActivity(ra.ReportDeliver, mock.Anything, mock.Anything).Return("posted to Slack channel C1 (message 1.2)", nil)

	env.ExecuteWorkflow(SOCReport, ReportInput{Period: 7 * 24 * time.Hour, End: end, Dir: "/tmp/out"})
	require.NoError(t, env.GetWorkflowError())
	var res ReportResult
	require.NoError(t, env.GetWorkflowResult(&res))

	assert.Equal(t, window.ID(), res.ReportID)
	assert.Equal(t, 1500, res.Investigations)
	assert.Equal(t, []int{1000, 499}, detailPages, "one SentinelOne request per page of at most 1000 distinct threat IDs")
	assert.Equal(t, "/tmp/out", written.Dir)
	assert.Equal(t, 1500, written.Figures.Investigations)
	assert.Equal(t, 1, written.Figures.MTTT.N)
	assert.Equal(t, 5*time.Minute, written.Figures.MTTT.P50)
	assert.Equal(t, report.ByRules, res.SummaryBy, "a failing summary step is written by rules")
	assert.Contains(t, written.Summary.Note, "summarising failed")
	assert.Equal(t, report.Written{Markdown: "/r/x.md", HTML: "/r/x.html"}, res.Files)
	assert.Equal(t, "posted to Slack channel C1 (message 1.2)", res.Slack)
}

func TestSOCReportWithoutSlackDoesNotPost(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(SOCReport, workflow.RegisterOptions{Name: SOCReportWorkflow})
	env.RegisterActivity(&report.Activities{})
	env.OnActivity(ra.ReportSettings, mock.Anything).Return(report.Settings{Dir: "reports"}, nil)
	env.OnActivity(ra.ReportListInvestigations, mock.Anything, mock.Anything).Return(report.ListPage{}, nil)
	env.OnActivity(ra.ReportReadAudit, mock.Anything, mock.Anything).Return(report.AuditRead{}, nil)
	env.OnActivity(ra.ReportSummarize, mock.Anything, mock.Anything).Return(report.Summary{Text: "x", By: "rules"}, nil)
	env.OnActivity(ra.ReportWrite, mock.Anything, mock.Anything).Return(report.Written{}, nil)
	env.ExecuteWorkflow(SOCReport, ReportInput{Period: time.Hour})
	require.NoError(t, env.GetWorkflowError())
	var res ReportResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, "Slack not configured", res.Slack)
	assert.Equal(t, time.Hour, res.Window.To.Sub(res.Window.From))
	assert.Equal(t, res.Window.To, res.Window.To.Truncate(time.Minute), "a run's period ends on a minute, so a retry names the same files")
}
