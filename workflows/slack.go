package workflows

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// slackMessage is the investigation's message in the SOC's Slack channel. One
// coroutine posts it and keeps it in step with the investigation, so Slack, slow or
// down, never holds up the runbook: approvals by CLI work all along, and the outcome
// note says when the message could not be posted.
//
// Only investigations whose settings carry Slack (read at their start) post, so
// histories from before it replay unchanged.
type slackMessage struct {
	settings activities.SlackSettings
	base     messages.Card
	ts       string
	// problem says why the message could not be posted or kept up to date.
	problem string
	// want and sent version the investigation's state: the coroutine sends the
	// latest state whenever it is ahead of the message, however often it changed.
	want, sent int
	replies    []activities.SlackReplyInput
	closing    bool
	done       bool
}

// announce posts the triaged investigation in Slack, when the deployment has Slack
// and the investigation is one its settings post: every one that waits for a human,
// and those the settings add (all, or from a priority up).
func (inv *investigator) announce(ev investigation.Evidence, analysis investigation.Analysis, plan policy.Plan) {
	s := inv.settings.Slack
	if s == nil || !(inv.waitsForAHuman(plan) || s.PostAll || (s.MinPriority != "" && analysis.Priority.Rank() >= minPriority(s.MinPriority).Rank())) {
		return
	}
	inv.slack = &slackMessage{settings: *s, base: inv.baseCard(ev, analysis, plan)}
	workflow.Go(inv.ctx, inv.keepSlackMessage)
}

// tellSlack brings the message to the investigation's current state.
func (inv *investigator) tellSlack() {
	if inv.slack != nil {
		inv.slack.want++
	}
}

// replySlack posts a reminder or an escalation in the message's thread.
func (inv *investigator) replySlack(kind, text string) {
	m := inv.slack
	if m == nil {
		return
	}
	if m.settings.EscalationMention != "" {
		text = m.settings.EscalationMention + " " + text
	}
	m.replies = append(m.replies, activities.SlackReplyInput{Channel: m.settings.Channel, WorkflowID: m.base.WorkflowID, Key: kind, Text: text})
}

// closeSlack sends the final state and waits for the message to settle: the outcome
// note then says whether Slack had it.
func (inv *investigator) closeSlack() string {
	m := inv.slack
	if m == nil {
		return ""
	}
	m.want++
	m.closing = true
	_ = workflow.Await(inv.ctx, func() bool { return m.done })
	return m.problem
}

func (inv *investigator) keepSlackMessage(ctx workflow.Context) {
	m := inv.slack
	defer func() { m.done = true }()
	m.sent = m.want
	in := activities.SlackPostInput{Channel: m.settings.Channel, Card: inv.card()}
	if err := workflow.ExecuteActivity(m.options(ctx, "post Slack message"), a.PostSlackMessage, in).Get(ctx, &m.ts); err != nil {
		m.problem = "the Slack message could not be posted (" + rootMessage(err) + "); decide with the CLI"
		inv.log.Warn("Posting the Slack message failed; the investigation goes on without it.", "Error", err)
		return
	}
	for {
		_ = workflow.Await(ctx, func() bool { return len(m.replies) > 0 || m.sent < m.want || m.closing })
		switch {
		case len(m.replies) > 0:
			r := m.replies[0]
			m.replies = m.replies[1:]
			r.TS = m.ts
			if err := workflow.ExecuteActivity(m.options(ctx, "Slack "+r.Key), a.ReplySlackThread, r).Get(ctx, nil); err != nil {
				inv.log.Warn("Replying in the Slack thread failed.", "Key", r.Key, "Error", err)
			}
		case m.sent < m.want:
			m.sent = m.want
			in := activities.SlackUpdateInput{Channel: m.settings.Channel, TS: m.ts, Card: inv.card()}
			if err := workflow.ExecuteActivity(m.options(ctx, "update Slack message"), a.UpdateSlackMessage, in).Get(ctx, nil); err != nil {
				m.problem = "the Slack message could not be updated (" + rootMessage(err) + ")"
				inv.log.Warn("Updating the Slack message failed.", "Error", err)
			}
		default:
			return
		}
	}
}

// slackOptions bound each Slack call's retries (Retry-After honoured) to the
// settings' RetryFor, two minutes by default: a Slack outage costs the message, never
// the investigation.
func (m *slackMessage) options(ctx workflow.Context, summary string) workflow.Context {
	budget := m.settings.RetryFor
	if budget <= 0 {
		budget = 2 * time.Minute
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    min(15*time.Second, budget),
		ScheduleToCloseTimeout: budget,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
		Summary:                summary,
	})
}

// baseCard is what triage knows: the threat, the analysis, the plan, the links.
func (inv *investigator) baseCard(ev investigation.Evidence, an investigation.Analysis, plan policy.Plan) messages.Card {
	f := ev.Facts
	wid := workflow.GetInfo(inv.ctx).WorkflowExecution.ID
	analyzer := an.Analyzer
	if an.FallbackReason != "" {
		analyzer += " (fallback: " + an.FallbackReason + ")"
	}
	c := messages.Card{
		ThreatID: f.ThreatID, WorkflowID: wid, ThreatName: f.ThreatName,
		Host:     fmt.Sprintf("%s (%s, %s)", f.AgentName, orNone(f.OSName), orNone(f.MachineType)),
		S1Rating: f.ConfidenceLevel, Verdict: string(an.Verdict), Confidence: an.Confidence, Priority: string(an.Priority),
		Analyzer: analyzer, Summary: an.Summary, Evidence: evidenceLines(f, an),
	}
	for _, st := range plan.Steps {
		c.Policy = append(c.Policy, fmt.Sprintf("%s: %s (%s)", st.Action, st.Disposition, st.Reason))
	}
	s := inv.settings.Slack
	c.InvestigationURL = strings.ReplaceAll(s.InvestigationURL, "{workflowId}", url.PathEscape(wid))
	c.ThreatURL = strings.ReplaceAll(s.ThreatURL, "{threatId}", url.PathEscape(f.ThreatID))
	return c
}

// card is the message as the investigation stands now.
func (inv *investigator) card() messages.Card {
	c := inv.slack.base
	c.State = messages.StateTriaged
	switch {
	case inv.status.Stage == StageAwaitingApproval && inv.decision == nil && !inv.closedByAnalyst():
		c.State, c.Review, c.Deadline = messages.StatePending, inv.status.Review, inv.status.ApprovalDeadline
		for _, st := range inv.pendingSteps {
			c.Pending = append(c.Pending, messages.Pending{Action: string(st.Action), MayApprove: inv.mayApprove(st)})
		}
	case inv.decision != nil:
		d := inv.decision
		c.State = messages.StateDecided
		c.Decision = &messages.Decided{Approved: d.Approved, By: d.Approver, Identity: d.Identity, At: inv.decidedAt, Reason: d.Reason}
		for _, a := range d.Actions {
			c.Decision.Actions = append(c.Decision.Actions, string(a))
		}
	case inv.result.ClosedInConsole:
		c.State = messages.StateClosedInConsole
	case inv.result.ApprovalTimedOut:
		c.State, c.Deadline = messages.StateNoDecision, inv.status.ApprovalDeadline
	}
	for _, r := range inv.status.Actions {
		detail := r.Detail
		if f := r.Forensics; f != nil && f.DownloadURL != "" {
			// The link itself stays in the console's note: a Slack channel is wider.
			detail = fmt.Sprintf("package %s from task %s; its link is in the threat's note", f.FileName, f.TaskID)
		}
		c.Results = append(c.Results, messages.Result{Action: string(r.Action), State: string(r.State), Detail: detail})
	}
	c.Outcome = string(inv.status.Outcome)
	return c
}

// mayApprove names who may approve a step now (escalation widens it).
func (inv *investigator) mayApprove(st policy.Step) string {
	pol := inv.settings.Policy
	var roles []string
	if inv.escalated && pol != nil {
		roles = pol.Approvals.EscalateTo
	}
	return approverList(pol, []policy.Step{st}, roles)
}

// evidenceLines are the strongest facts for a human deciding in Slack: what ran, who
// signed it, what started it, and the analysis's own cited steps.
func evidenceLines(f investigation.ThreatFacts, an investigation.Analysis) []string {
	var out []string
	if f.FilePath != "" {
		line := "file " + f.FilePath
		if f.SHA1 != "" {
			line += " (sha1 " + f.SHA1 + ")"
		}
		out = append(out, line)
	}
	if f.PublisherName != "" || f.FileVerificationType != "" {
		out = append(out, fmt.Sprintf("publisher %s, %s", orNone(f.PublisherName), orNone(f.FileVerificationType)))
	}
	if f.OriginatorProcess != "" {
		out = append(out, "started by "+f.OriginatorProcess)
	}
	if len(f.Engines) > 0 {
		out = append(out, "detected by "+strings.Join(f.Engines, ", "))
	}
	for i, st := range an.AttackTimeline {
		if i == 3 {
			break
		}
		out = append(out, st.Step+" ["+st.Evidence+"]")
	}
	return out
}

func minPriority(p string) investigation.Priority {
	for _, v := range investigation.Priorities {
		if strings.EqualFold(string(v), p) {
			return v
		}
	}
	return investigation.PriorityCritical
}
