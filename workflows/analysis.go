package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/investigation"
)

// gatherContext reads the threat's surroundings for the model. Context only improves
// an analysis, so a SentinelOne that keeps failing costs it, not the investigation:
// after a short retry budget the analysis goes ahead and the context says why it is
// missing.
func (inv *investigator) gatherContext(ev investigation.Evidence) *investigation.Context {
	ctx := inv.s1("gather context: process tree, prevalence, host history")
	opts := workflow.GetActivityOptions(ctx)
	opts.ScheduleToCloseTimeout = 2 * time.Minute
	opts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 20 * time.Second, MaximumAttempts: 5}
	var c investigation.Context
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.GatherContext, ev).Get(inv.ctx, &c); err != nil {
		inv.log.Warn("Context could not be gathered; analysing without it.", "Error", err)
		return &investigation.Context{Unavailable: []string{"context: " + rootMessage(err)}}
	}
	return &c
}

// analyzeWithFallback asks the configured analyzer; if it fails or answers outside the
// schema, the rules engine stands in and the analysis says so. An investigation never
// stalls on a model.
func (inv *investigator) analyzeWithFallback(ev investigation.Evidence) investigation.Analysis {
	opts := workflow.ActivityOptions{
		StartToCloseTimeout:    3 * time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 3},
		Summary:                "analyse threat",
	}
	var analysis investigation.Analysis
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(inv.ctx, opts), a.AnalyzeThreat, ev).Get(inv.ctx, &analysis)
	if err == nil {
		return analysis
	}
	reason := "model failed: " + rootMessage(err)
	inv.log.Warn("Analyzer failed; falling back to rules.", "Error", err)
	if ferr := workflow.ExecuteActivity(inv.short("rules fallback"), a.AnalyzeWithRules, ev, reason).Get(inv.ctx, &analysis); ferr != nil {
		// The rules engine is local and deterministic; if even it fails, a human must look.
		return investigation.Analysis{
			Verdict: investigation.VerdictUndetermined, Priority: investigation.PriorityHigh,
			Summary:  "No analyzer could produce a verdict; a human must triage this threat.",
			Analyzer: "none", FallbackReason: reason + "; rules failed: " + rootMessage(ferr),
		}
	}
	return analysis
}
