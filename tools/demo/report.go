package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/workflows"
)

// reportEnv has the worker write the audit log to a file (the report reads it) and
// the report under the demo's log directory.
func reportEnv(o options) []string {
	return []string{"S1C_AUDIT_FILE=" + absPath(o.logs, "audit.jsonl"), "S1C_REPORT_DIR=" + absPath(o.logs, "reports")}
}

// report makes the SOC report of the demo's own run once its investigations have
// settled, as `starter report` does, and prints where it is. With -check it returns
// what is wrong: the report must count the scenario's investigations.
func (w *watcher) report(ctx context.Context) []string {
	end := time.Now().UTC().Add(time.Minute).Truncate(time.Minute)
	period := end.Sub(w.start.Add(-time.Minute).Truncate(time.Minute))
	in := workflows.ReportInput{Period: period, End: end}
	run, err := w.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "s1copilot-soc-report/demo/" + end.Format("2006-01-02T1504Z"), TaskQueue: "s1copilot", WorkflowExecutionTimeout: 5 * time.Minute,
	}, workflows.SOCReportWorkflow, in)
	if err != nil {
		return []string{"starting the SOC report: " + err.Error()}
	}
	var res workflows.ReportResult
	if err := run.Get(ctx, &res); err != nil {
		return []string{"the SOC report failed: " + err.Error()}
	}
	fmt.Fprintf(w.out, "\nSOC report of this run (%d investigations, summary by %s; Slack: %s):\n  %s\n  %s\n",
		res.Investigations, res.SummaryBy, res.Slack, res.Files.HTML, res.Files.Markdown)
	var problems []string
	if res.Investigations != len(w.sc) {
		problems = append(problems, fmt.Sprintf("the SOC report counts %d investigations, the scenario has %d", res.Investigations, len(w.sc)))
	}
	md, err := os.ReadFile(res.Files.Markdown)
	if err != nil {
		return append(problems, "reading the SOC report: "+err.Error())
	}
	if want := fmt.Sprintf("| time to triage | %d |", len(w.sc)); !strings.Contains(string(md), want) {
		problems = append(problems, fmt.Sprintf("the SOC report does not measure every investigation's time to triage (%q missing)", want))
	}
	return problems
}

func absPath(dir, name string) string {
	p, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return filepath.Join(dir, name)
	}
	return p
}
