package slackbot

import (
	"context"

	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/workflows"
)

// entry is one request's audit record.
type entry struct {
	// key identifies the request, the same whenever Slack sends it again, so that a
	// SIEM drops the duplicate record (audit's deterministic IDs).
	key      string
	threatID string
	actor    string
	action   string
	accepted bool
	reason   string
}

// record writes e as a slack_request audit record. The record outlives the request:
// it is written even when the work's context has ended.
func (b *Bot) record(ctx context.Context, e entry) {
	inv := botInvestigation
	if e.threatID != "" {
		inv = workflows.WorkflowID(e.threatID)
	}
	r := audit.Record{
		Time: b.o.Now().UTC(), ID: audit.RecordID(inv, "slackbot/"+e.key), Kind: audit.KindSlackRequest,
		InvestigationID: inv, ThreatID: e.threatID, Actor: e.actor, Channel: "slack",
		Action: e.action, Decision: auditDecisionNot, Reason: e.reason,
	}
	if r.Actor == "" {
		r.Actor = "unknown"
	}
	if e.accepted {
		r.Decision = auditDecisionOK
	}
	if err := b.o.Audit.Write(context.WithoutCancel(ctx), r); err != nil {
		b.o.Logger.Error("Audit record not written.", zap.String("id", r.ID), zap.Error(err))
	}
}
