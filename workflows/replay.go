package workflows

import (
	"fmt"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// ReplayHistory replays an investigation's history (registered with RegisterReplay)
// under its own workflow ID, as its worker does: signed decisions are bound to that ID,
// so a replay under the replayer's placeholder would refuse them and diverge.
func ReplayHistory(r worker.WorkflowReplayer, h *historypb.History) error {
	var opts worker.ReplayWorkflowHistoryOptions
	start := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
	if ps := start.GetInput().GetPayloads(); len(ps) > 0 && start.GetWorkflowType().GetName() == InvestigateWorkflow {
		var in Input
		if err := converter.GetDefaultDataConverter().FromPayload(ps[0], &in); err != nil {
			return fmt.Errorf("reading the investigation's input: %w", err)
		}
		opts.OriginalExecution = workflow.Execution{ID: WorkflowID(in.ThreatID)}
	}
	return r.ReplayWorkflowHistoryWithOptions(nil, h, opts)
}
