package slackbot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/workflows"
)

// ApproveReason is the reason of a one-click approval.
const ApproveReason = "approved in Slack"

// decisionRequest is a decision a Slack user asked for.
type decisionRequest struct {
	click
	what    string // ActApprove, ActApproveSome, ActReject
	approve bool
	// actions chosen (approve some); empty approves every pending action.
	actions []investigation.Action
	reason  string
}

// decide establishes who the Slack user is, signs the decision for them and sends it
// to the investigation, which checks their role; the user is told the outcome in an
// ephemeral message and the request is audited. An unmapped user sends nothing.
func (b *Bot) decide(ctx context.Context, r decisionRequest) {
	approver, err := b.approverOf(ctx, r.user)
	if err != nil {
		b.record(ctx, entry{key: r.key, threatID: r.threatID, actor: r.user, action: r.what, reason: err.Error()})
		b.ephemeral(ctx, r.channel, r.user, unmappedText(err))
		return
	}
	d := b.sign(r, approver)
	send := b.o.Investigations.Reject
	if r.approve {
		send = b.o.Investigations.Approve
	}
	_, err = send(ctx, r.threatID, d, workflows.DecideOptions{})
	if err == nil {
		b.o.Logger.Info("Decision recorded from Slack.", zap.String("threat", r.threatID), zap.String("approver", approver),
			zap.String("what", r.what), zap.String("requestId", d.RequestID))
		b.record(ctx, entry{key: r.key, threatID: r.threatID, actor: approver, action: r.what, accepted: true, reason: r.reason})
		b.ephemeral(ctx, r.channel, r.user, recordedText(r))
		return
	}
	text, why := b.explain(ctx, r.threatID, err)
	b.record(ctx, entry{key: r.key, threatID: r.threatID, actor: approver, action: r.what, reason: why})
	b.ephemeral(ctx, r.channel, r.user, text)
}

// sign makes the decision the bot vouches for: the request ID is set first, as the
// signature covers it, and so is Approved, which Approve would set after signing.
func (b *Bot) sign(r decisionRequest, approver string) workflows.Decision {
	d := workflows.Decision{
		Approved: r.approve, Approver: approver, Reason: r.reason, Channel: "slack", RequestID: r.requestID,
		Actions: r.actions, SlackUser: r.user, Signer: identity.SlackBotSigner, SignedAt: b.o.Now().UTC(),
	}
	if !r.approve {
		d.Actions = nil // Reject sends none
	}
	d.Signature = identity.Sign(b.o.Key, d.Statement(workflows.WorkflowID(r.threatID)))
	return d
}

// explain turns a decision the investigation did not record into what the user reads
// and what the audit record says.
func (b *Bot) explain(ctx context.Context, threatID string, err error) (text, why string) {
	var refused *workflows.RefusedError
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &refused):
		if s, ok := b.settled(ctx, threatID); ok {
			return s, refused.Reason
		}
		return fmt.Sprintf("Refused by the investigation of threat %s: %s", esc(threatID), esc(refused.Reason)), refused.Reason
	case errors.Is(err, workflows.ErrNoWorkerAnswered):
		return fmt.Sprintf("No worker answered in time, so nothing was recorded for threat %s. Try again in a moment.", esc(threatID)),
			"not recorded: no worker answered"
	case errors.As(err, &notFound):
		if st, err := b.o.Investigations.Status(ctx, threatID); err == nil && st.Outcome != "" {
			return fmt.Sprintf("The investigation of threat %s has finished (outcome: %s); nothing was recorded.%s",
				esc(threatID), esc(string(st.Outcome)), decidedBy(st.Decision)), "investigation finished (" + string(st.Outcome) + ")"
		}
		return fmt.Sprintf("No investigation of threat %s is running; nothing was recorded.", esc(threatID)), "no running investigation"
	}
	b.o.Logger.Error("Decision from Slack not recorded.", zap.String("threat", threatID), zap.Error(err))
	return fmt.Sprintf("Could not reach the investigation of threat %s (the error is logged); nothing was recorded. Try again.", esc(threatID)),
		"not recorded: error reaching the investigation"
}

// settled says why nothing waits for a decision any more, from the investigation's
// status: someone decided first, or the deadline passed. ok=false: neither (the
// refusal's own reason says why).
func (b *Bot) settled(ctx context.Context, threatID string) (text string, ok bool) {
	st, err := b.o.Investigations.Status(ctx, threatID)
	switch {
	case err != nil:
		return "", false
	case st.Decision != nil:
		return fmt.Sprintf("Threat %s was already decided:%s Your click changed nothing.", esc(threatID), decidedBy(st.Decision)), true
	case !st.ApprovalDeadline.IsZero() && b.o.Now().After(st.ApprovalDeadline) && len(st.AwaitingApproval) == 0:
		text := fmt.Sprintf("The approval deadline of threat %s passed at %s: no action was taken, and there is nothing left to decide.",
			esc(threatID), st.ApprovalDeadline.UTC().Format(time.RFC3339))
		if st.Outcome != "" {
			text += " Outcome: " + esc(string(st.Outcome)) + "."
		}
		return text, true
	}
	return "", false
}

func decidedBy(d *workflows.Decision) string {
	if d == nil {
		return ""
	}
	verb := "rejected"
	if d.Approved {
		verb = "approved"
		if len(d.Actions) > 0 {
			verb = "approved " + actionList(d.Actions) + " only"
		}
	}
	s := fmt.Sprintf(" %s by %s", verb, esc(d.Approver))
	if d.Reason != "" {
		s += fmt.Sprintf(" (%s)", esc(d.Reason))
	}
	return s + "."
}

func recordedText(r decisionRequest) string {
	switch {
	case !r.approve:
		return fmt.Sprintf("Rejected: none of the pending actions of threat %s will be taken.", esc(r.threatID))
	case len(r.actions) > 0:
		return fmt.Sprintf("Approved %s on threat %s; the other pending actions will not be taken.", actionList(r.actions), esc(r.threatID))
	}
	return fmt.Sprintf("Approved: every pending action of threat %s will be carried out.", esc(r.threatID))
}

func actionList(actions []investigation.Action) string {
	s := make([]string, len(actions))
	for i, a := range actions {
		s[i] = esc(string(a))
	}
	return strings.Join(s, ", ")
}
