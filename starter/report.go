package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/workflows"
)

// runReport makes the SOC report now with the workflow the Schedule runs, waits for it
// and prints where the files are. The worker writes them: --out is a directory on its
// machine (or a volume both see), made absolute here.
func runReport(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	since := fs.String("since", "7d", "the period the report covers, ending now (e.g. 7d, 24h, 30m)")
	dir := fs.String("out", "", "directory the worker writes the report to (default: the worker's S1C_REPORT_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	period, err := parsePeriod(*since)
	if err != nil {
		return err
	}
	in := workflows.ReportInput{Period: period, End: time.Now().UTC().Truncate(time.Minute)}
	if *dir != "" {
		if in.Dir, err = filepath.Abs(*dir); err != nil {
			return fmt.Errorf("--out %s: %w", *dir, err)
		}
	}
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	res, err := o.report(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "SOC report %s: %d investigations, summary by %s\n  %s\n  %s\n  Slack: %s\n",
		res.ReportID, res.Investigations, res.SummaryBy, res.Files.HTML, res.Files.Markdown, res.Slack)
	return nil
}

// report runs the SOCReport workflow for in and waits for its result. The workflow
// ID names the period, so running it twice in a minute gives the same report.
func (o *operator) report(ctx context.Context, in workflows.ReportInput) (workflows.ReportResult, error) {
	id := fmt.Sprintf("%s/%s/%s", workflows.ReportScheduleID, in.End.Format("2006-01-02T1504Z"), in.Period)
	run, err := o.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: o.temporal.TaskQueue, WorkflowExecutionTimeout: time.Hour,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "SOC report of the last " + in.Period.String(),
	}, workflows.SOCReportWorkflow, in)
	if err != nil {
		return workflows.ReportResult{}, fmt.Errorf("starting the SOC report: %w", err)
	}
	var res workflows.ReportResult
	if err := run.Get(ctx, &res); err != nil {
		return res, fmt.Errorf("the SOC report %s failed (is a worker running on task queue %s?): %w", id, o.temporal.TaskQueue, err)
	}
	return res, nil
}

// parsePeriod reads a Go duration, or a number of days ("7d").
func parsePeriod(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--since %q must be a positive period such as 7d, 24h or 30m", s)
	}
	return d, nil
}
