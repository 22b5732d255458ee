package ingest

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/workflows"
)

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

// FinishedInvestigations finds, on Temporal, what a threat's finished investigation
// concluded and wrote back (Copilots for ConsoleFeedback).
type FinishedInvestigations struct {
	C client.Client
}

// Copilot reads what the threat's finished investigation concluded and wrote back, for
// analyst feedback. A completed investigation's result is exact (verdict, analyzer, what
// it wrote to the console) and costs one Describe and one read of the close event, only
// for threats an analyst changed after the investigation ended. An investigation that
// failed or was terminated has no result: its S1Verdict search attribute (set once the
// analysis ran) stands in, with no analyzer and nothing written assumed but in_progress.
func (i FinishedInvestigations) Copilot(ctx context.Context, threatID string) (feedback.Copilot, bool, error) {
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
