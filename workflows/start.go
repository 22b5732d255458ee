package workflows

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// MaxInvestigation bounds an investigation, forgotten approvals included.
const MaxInvestigation = 7 * 24 * time.Hour

// StartHint is what the starter already knows about a threat, for the Web UI.
type StartHint struct {
	ThreatName string
	AgentName  string
	SiteID     string
}

// StartInvestigation starts the one investigation of a threat. It returns
// started=false and no error when the threat already has one, running or closed: the
// ID policies refuse a second run and the SDK is told to say so rather than silently
// returning the existing run.
func StartInvestigation(ctx context.Context, c client.Client, taskQueue, threatID string, hint StartHint) (started bool, err error) {
	sa := []temporal.SearchAttributeUpdate{ThreatIDKey.ValueSet(threatID)}
	if hint.AgentName != "" {
		sa = append(sa, AgentNameKey.ValueSet(hint.AgentName))
	}
	if hint.SiteID != "" {
		sa = append(sa, SiteIDKey.ValueSet(hint.SiteID))
	}
	summary := "SentinelOne threat " + threatID
	if hint.ThreatName != "" {
		summary = fmt.Sprintf("%s on %s", hint.ThreatName, hint.AgentName)
	}
	_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       WorkflowID(threatID),
		TaskQueue:                                taskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowExecutionTimeout:                 MaxInvestigation,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(sa...),
		StaticSummary:                            summary,
		StaticDetails:                            fmt.Sprintf("**SentinelOne threat:** %s\n\n**Agent:** %s", threatID, hint.AgentName),
	}, InvestigateWorkflow, Input{ThreatID: threatID})
	switch {
	case temporal.IsWorkflowExecutionAlreadyStartedError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("starting investigation of threat %s: %w", threatID, err)
	}
	return true, nil
}
