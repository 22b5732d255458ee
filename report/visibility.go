package report

import (
	"context"
	"fmt"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// The investigation's workflow type and search attributes, as package workflows
// names them (it imports this package, so a test there checks they agree).
const (
	InvestigationType = "InvestigateThreat"
	AttrThreatID      = "S1ThreatId"
	AttrVerdict       = "S1Verdict"
	AttrPriority      = "S1Priority"
	AttrStage         = "S1Stage"
	AttrOutcome       = "S1Outcome"
	AttrSiteID        = "S1SiteId"
	AttrAgentName     = "S1AgentName"
)

// VisibilityPageSize is the investigations read per visibility page (one activity).
const VisibilityPageSize = 1000

// Query is the visibility query of the investigations started in w.
func Query(w Window) string {
	return fmt.Sprintf("WorkflowType = '%s' AND StartTime >= '%s' AND StartTime < '%s'",
		InvestigationType, w.From.UTC().Format(time.RFC3339Nano), w.To.UTC().Format(time.RFC3339Nano))
}

// ListPage is one page of investigations and the token of the next ("" at the end).
type ListPage struct {
	Investigations []Investigation `json:"investigations"`
	NextPageToken  []byte          `json:"nextPageToken,omitempty"`
}

// ListInvestigations reads one page of the investigations started in w.
func ListInvestigations(ctx context.Context, c client.Client, namespace string, w Window, pageToken []byte) (ListPage, error) {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: namespace, Query: Query(w), PageSize: VisibilityPageSize, NextPageToken: pageToken,
	})
	if err != nil {
		return ListPage{}, fmt.Errorf("listing the investigations started %s (Temporal visibility): %w", w.Period(), err)
	}
	page := ListPage{NextPageToken: resp.GetNextPageToken()}
	for _, e := range resp.GetExecutions() {
		page.Investigations = append(page.Investigations, investigationOf(e))
	}
	return page, nil
}

func investigationOf(e *workflowpb.WorkflowExecutionInfo) Investigation {
	attrs := e.GetSearchAttributes().GetIndexedFields()
	keyword := func(name string) string {
		p, ok := attrs[name]
		if !ok {
			return ""
		}
		var s string
		if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
			return "" // not a keyword: ignored rather than failing the report
		}
		return s
	}
	inv := Investigation{
		WorkflowID: e.GetExecution().GetWorkflowId(), ThreatID: keyword(AttrThreatID),
		Verdict: keyword(AttrVerdict), Priority: keyword(AttrPriority), Stage: keyword(AttrStage), Outcome: keyword(AttrOutcome),
		SiteID: keyword(AttrSiteID), AgentName: keyword(AttrAgentName),
		Start: e.GetStartTime().AsTime().UTC(), Status: e.GetStatus().String(),
	}
	if e.GetCloseTime() != nil {
		inv.Close = e.GetCloseTime().AsTime().UTC()
	}
	if inv.ThreatID == "" { // set by the investigation's first upsert; derive it before that
		const prefix = "s1-threat/"
		if len(inv.WorkflowID) > len(prefix) && inv.WorkflowID[:len(prefix)] == prefix {
			inv.ThreatID = inv.WorkflowID[len(prefix):]
		}
	}
	return inv
}
