package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/report"
	"github.com/s1copilot/s1copilot/s1client"
)

// SOCReportWorkflow is the workflow type of the weekly SOC report (package report).
const SOCReportWorkflow = "SOCReport"

// ReportInput asks for the report of Period ending at End (zero: when the run
// starts, to the minute, which a Schedule's run keeps across retries).
type ReportInput struct {
	Period time.Duration `json:"period"`
	End    time.Time     `json:"end,omitzero"`
	// Dir overrides S1C_REPORT_DIR (starter report --out).
	Dir string `json:"dir,omitempty"`
}

// ReportResult says where the report is and what became of it.
type ReportResult struct {
	ReportID       string         `json:"reportId"`
	Window         report.Window  `json:"window"`
	Investigations int            `json:"investigations"`
	Files          report.Written `json:"files"`
	SummaryBy      string         `json:"summaryBy"`
	// Slack says what delivery did, or why it could not.
	Slack string `json:"slack"`
}

// ra is only used for method references; Temporal calls the worker's real instance.
var ra *report.Activities

// SOCReport makes the SOC report: list the period's investigations (visibility),
// read their audit trails, read their threats from SentinelOne, compute the figures,
// summarise, write the files and post to Slack. Every step but the computation is an
// activity; the computation is a pure function of their results, so it runs here.
func SOCReport(ctx workflow.Context, in ReportInput) (ReportResult, error) {
	if in.Period <= 0 {
		return ReportResult{}, temporal.NewNonRetryableApplicationError("the report period must be positive (e.g. 168h)", "BadReportInput", nil)
	}
	r := &reporter{ctx: ctx, log: workflow.GetLogger(ctx)}
	end := in.End
	if end.IsZero() {
		end = workflow.Now(ctx).UTC().Truncate(time.Minute)
	}
	r.window = report.Window{From: end.Add(-in.Period), To: end}
	return r.run(in.Dir)
}

type reporter struct {
	ctx      workflow.Context
	log      log.Logger
	window   report.Window
	settings report.Settings
}

func (r *reporter) run(dir string) (ReportResult, error) {
	res := ReportResult{ReportID: r.window.ID(), Window: r.window}
	if err := workflow.ExecuteActivity(r.options("read report settings", ""), ra.ReportSettings).Get(r.ctx, &r.settings); err != nil {
		return res, err
	}
	invs, err := r.collect()
	if err != nil {
		return res, err
	}
	res.Investigations = len(invs)
	trails, err := r.readAudit(invs)
	if err != nil {
		return res, err
	}
	threats, err := r.readThreats(invs)
	if err != nil {
		return res, err
	}
	figures := report.Compute(report.Inputs{Window: r.window, Investigations: invs, Trails: trails.Trails, Threats: threats,
		Pricing: r.settings.Pricing, Notes: trails.Notes})
	summary := r.summarise(figures)
	res.SummaryBy = summary.By
	if err := workflow.ExecuteActivity(r.options("write the report", ""), ra.ReportWrite, report.WriteInput{Figures: figures, Summary: summary, Dir: dir}).Get(r.ctx, &res.Files); err != nil {
		return res, err
	}
	res.Slack = r.deliver(figures, summary)
	return res, nil
}

// collect lists the period's investigations, a visibility page per activity.
func (r *reporter) collect() ([]report.Investigation, error) {
	var invs []report.Investigation
	var token []byte
	for {
		var page report.ListPage
		in := report.ListInput{Window: r.window, PageToken: token}
		if err := workflow.ExecuteActivity(r.options("list the period's investigations", ""), ra.ReportListInvestigations, in).Get(r.ctx, &page); err != nil {
			return nil, err
		}
		invs = append(invs, page.Investigations...)
		if token = page.NextPageToken; len(token) == 0 {
			return invs, nil
		}
	}
}

func (r *reporter) readAudit(invs []report.Investigation) (report.AuditRead, error) {
	ids := make([]string, len(invs))
	for i, inv := range invs {
		ids[i] = inv.WorkflowID
	}
	var read report.AuditRead
	err := workflow.ExecuteActivity(r.options("read the audit log", ""), ra.ReportReadAudit, report.AuditInput{InvestigationIDs: ids, Since: r.window.From}).Get(r.ctx, &read)
	return read, err
}

// readThreats reads the investigated threats from SentinelOne, one request per
// page of IDs, on the SentinelOne task queue (its one worker keeps the API's limits).
func (r *reporter) readThreats(invs []report.Investigation) ([]report.Threat, error) {
	var ids []string
	for _, inv := range invs {
		if inv.ThreatID != "" {
			ids = append(ids, inv.ThreatID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var threats []report.Threat
	for page := range slices.Chunk(ids, s1client.MaxLimit) {
		var got []report.Threat
		if err := workflow.ExecuteActivity(r.options("read threats from SentinelOne", r.settings.S1TaskQueue), ra.ReportThreatDetails, page).Get(r.ctx, &got); err != nil {
			return nil, err
		}
		threats = append(threats, got...)
	}
	return threats, nil
}

// summarise asks for the executive summary; should even the activity fail (it falls
// back to the rules itself when the model does), the rules write it here.
func (r *reporter) summarise(f report.Figures) report.Summary {
	var s report.Summary
	if err := workflow.ExecuteActivity(r.summaryOptions(), ra.ReportSummarize, f).Get(r.ctx, &s); err != nil {
		r.log.Warn("Summarising the report failed; the rules write the summary.", "Error", err)
		return report.RulesSummary(f, "summarising failed: "+rootMessage(err))
	}
	return s
}

// deliver posts the report to Slack; a Slack that refuses or stays down is said in
// the result, it does not fail the report (the files are written).
func (r *reporter) deliver(f report.Figures, s report.Summary) string {
	if !r.settings.Slack {
		return "Slack not configured"
	}
	var said string
	if err := workflow.ExecuteActivity(r.options("post the report to Slack", ""), ra.ReportDeliver, report.DeliverInput{Figures: f, Summary: s}).Get(r.ctx, &said); err != nil {
		r.log.Warn("Posting the report to Slack failed.", "Error", err)
		return "not posted to Slack: " + rootMessage(err)
	}
	return said
}

func (r *reporter) options(summary, queue string) workflow.Context {
	return workflow.WithActivityOptions(r.ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 2 * time.Minute},
		TaskQueue:              queue,
		Summary:                summary,
	})
}

func (r *reporter) summaryOptions() workflow.Context {
	return workflow.WithActivityOptions(r.ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		// After report.SummaryAttempts the activity writes the summary by rules itself.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: report.SummaryAttempts},
		Summary:     "summarise the figures",
	})
}
