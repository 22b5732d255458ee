package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// approve waits for a human to decide the actions the policy left to one, and returns
// those to carry out. No decision by the deadline means no action.
func (inv *investigator) approve(plan policy.Plan) []investigation.Action {
	pending := plan.Actions(policy.Approve)
	if !inv.waitsForAHuman(plan) {
		return nil
	}
	d := inv.awaitApproval(plan, pending)
	switch {
	case inv.closedByAnalyst():
		inv.result.ClosedInConsole = true
		inv.record(pending, policy.Approve, ActionNotTaken, "the threat was closed in the SentinelOne console ("+inv.seen.summary()+")")
		return nil
	case d == nil:
		inv.result.ApprovalTimedOut = true
		inv.record(pending, policy.Approve, ActionNotTaken, "no decision before the approval deadline: no action taken")
		return nil
	case !d.Approved:
		inv.result.Decision = d
		// A rejected recommendation is the analyst disagreeing with the copilot.
		inv.recordFeedback(inv.ctx, feedback.ApprovalRecord(inv.copilot(), d.Approver, d.Reason, pending))
		inv.record(pending, policy.Approve, ActionNotTaken, fmt.Sprintf("rejected by %s: %s", d.Approver, d.Reason))
		return nil
	}
	inv.result.Decision = d
	chosen, left := chosenActions(*d, pending)
	inv.record(left, policy.Approve, ActionNotTaken, "left out by "+d.Approver+" (approved with changes)")
	if len(chosen) > 0 {
		inv.countApproved(chosen)
	}
	return chosen
}

// waitsForAHuman says whether the plan leaves a decision to a human: actions to
// approve, or a disagreement to settle (putToAHuman).
func (inv *investigator) waitsForAHuman(plan policy.Plan) bool {
	return len(plan.Actions(policy.Approve)) > 0 || inv.status.Review != ""
}

// putToAHuman settles a model's disagreement with SentinelOne or the rules
// (investigation.Disagreement) the only way a SOC can trust: the analysis is already
// the higher reading, decided by the policy as if no model had spoken (so a
// manipulated model can neither close the threat nor delay its containment), and a
// human reviews the disagreement with both readings in front of them, with the plan's
// approvals if it has any. Approving keeps SentinelOne's reading (and runs what waits);
// rejecting sides with the model (nothing more is done).
//
// A policy with disagreements.holdAutomatic makes the automatic steps wait too.
func (inv *investigator) putToAHuman(plan *policy.Plan, d *investigation.Disagreement) {
	inv.status.Review = d.Reason
	if inv.settings.Policy == nil || !inv.settings.Policy.Disagreements.HoldAutomatic {
		return
	}
	for i, st := range plan.Steps {
		if st.Disposition == policy.Auto {
			plan.Steps[i].Disposition, plan.Steps[i].Reason = policy.Approve, d.Reason+" (the policy holds automatic actions for it)"
		}
	}
}

// awaitApproval waits for the first valid decision or the deadline; nil means timed out.
// On the way it reminds, then escalates to the policy's second group of approvers.
func (inv *investigator) awaitApproval(plan policy.Plan, pending []investigation.Action) *Decision {
	timeout := inv.settings.ApprovalTimeout
	start := workflow.Now(inv.ctx)
	inv.pendingSteps = nil
	for _, st := range plan.Steps {
		if slices.Contains(pending, st.Action) {
			inv.pendingSteps = append(inv.pendingSteps, st)
		}
	}
	inv.status.AwaitingApproval = pending
	inv.status.ApprovalDeadline = start.Add(timeout)
	inv.setStage(StageAwaitingApproval)
	inv.tellSlack()
	var asks []audit.Record
	for _, st := range inv.pendingSteps {
		asks = append(asks, audit.Record{ID: "approval_requested/" + string(st.Action), Kind: audit.KindApprovalRequested, Action: string(st.Action),
			Reason: fmt.Sprintf("roles %v; deadline %s", st.Approvers, inv.status.ApprovalDeadline.UTC().Format(time.RFC3339))})
	}
	if inv.status.Review != "" {
		asks = append(asks, audit.Record{ID: "approval_requested/review", Kind: audit.KindApprovalRequested,
			Reason: inv.status.Review + fmt.Sprintf("; deadline %s", inv.status.ApprovalDeadline.UTC().Format(time.RFC3339))})
	}
	inv.audit(asks...)

	decided := func() bool { return inv.decision != nil || inv.closedByAnalyst() }
	inv.remindThenEscalate(start, decided)
	ok := decided()
	if !ok {
		var err error
		ok, err = workflow.AwaitWithOptions(inv.ctx, workflow.AwaitOptions{
			Timeout:      inv.status.ApprovalDeadline.Sub(workflow.Now(inv.ctx)),
			TimerOptions: workflow.TimerOptions{Summary: "approval deadline"},
		}, decided)
		ok = ok && err == nil
	}
	inv.status.AwaitingApproval, inv.status.Review = nil, ""
	defer inv.tellSlack()
	if !ok || inv.decision == nil {
		closed := inv.closedByAnalyst()
		if !closed {
			inv.log.Info("Approval deadline passed; taking no action.", "Actions", pending)
		}
		if inv.consoleMatchesOutcome() {
			// Every end of a pending decision is on the record, not only a human's.
			end := audit.Record{ID: "approval", Kind: audit.KindApproval, Decision: "timed_out",
				Reason: fmt.Sprintf("no decision before the deadline %s: no action taken", inv.status.ApprovalDeadline.UTC().Format(time.RFC3339))}
			if closed {
				end.Decision, end.Reason = "closed_in_console", "the threat was closed in the SentinelOne console ("+inv.seen.summary()+")"
			}
			inv.audit(end)
		}
		return nil
	}
	inv.status.Decision = inv.decision
	inv.audit(decisionRecord(*inv.decision))
	return inv.decision
}

// remindThenEscalate waits until the policy's reminder and escalation times, nudging
// the approvers at each, unless someone decided first.
func (inv *investigator) remindThenEscalate(start time.Time, decided func() bool) {
	if inv.settings.Policy == nil {
		return
	}
	ap := inv.settings.Policy.Approvals
	for _, stage := range []struct {
		after time.Duration
		kind  string
	}{{time.Duration(ap.ReminderAfter), "reminder"}, {time.Duration(ap.EscalateAfter), "escalation"}} {
		if stage.after <= 0 || stage.after >= inv.settings.ApprovalTimeout || decided() {
			continue
		}
		ok, err := workflow.AwaitWithOptions(inv.ctx, workflow.AwaitOptions{
			Timeout: start.Add(stage.after).Sub(workflow.Now(inv.ctx)), TimerOptions: workflow.TimerOptions{Summary: "approval " + stage.kind},
		}, decided)
		if err != nil || ok {
			return
		}
		inv.nudge(stage.kind)
	}
}

// nudge reminds the approvers, or escalates to the policy's escalation roles, with a
// note on the threat (what the console and its integrations see) and an audit record.
func (inv *investigator) nudge(kind string) {
	pol := inv.settings.Policy
	who := approverList(pol, inv.pendingSteps, nil)
	if kind == "escalation" {
		inv.escalated = true
		who = approverList(pol, nil, pol.Approvals.EscalateTo)
	}
	sig, st := ApproveCommands(inv.status.ThreatID)
	what := fmt.Sprintf("%v still wait(s) for approval", inv.status.AwaitingApproval)
	if len(inv.status.AwaitingApproval) == 0 {
		what = "a decision still waits (" + inv.status.Review + ")"
	}
	text := fmt.Sprintf("s1copilot %s: %s (deadline %s). May approve: %s.\n  %s\n  %s\n",
		kind, what, inv.status.ApprovalDeadline.UTC().Format(time.RFC3339), who, sig, st)
	inv.note(kind, text)
	inv.replySlack(kind, fmt.Sprintf("%s: %s (deadline %s). May approve: %s.", kind, what, inv.status.ApprovalDeadline.UTC().Format(time.RFC3339), who))
	inv.audit(audit.Record{ID: "approval_" + kind, Kind: audit.KindApprovalRequested, Decision: kind, Reason: "may approve: " + who})
}

// approverList names the people who may approve: the roles of the steps, or the given roles.
func approverList(p *policy.Policy, steps []policy.Step, roles []string) string {
	if p == nil {
		return "anyone"
	}
	for _, st := range steps {
		roles = append(roles, st.Approvers...)
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	var out []string
	for _, r := range roles {
		out = append(out, fmt.Sprintf("%s %v", r, p.Roles[r]))
	}
	if len(out) == 0 {
		return "anyone"
	}
	return strings.Join(out, "; ")
}

// chosenActions splits an approval into the actions to carry out, in execution order, and
// the pending ones the approver left out.
func chosenActions(d Decision, pending []investigation.Action) (chosen, left []investigation.Action) {
	if len(d.Actions) == 0 {
		return pending, nil
	}
	for _, a := range investigation.Actions {
		if slices.Contains(d.Actions, a) {
			chosen = append(chosen, a)
		} else if slices.Contains(pending, a) {
			left = append(left, a)
		}
	}
	return chosen, left
}
