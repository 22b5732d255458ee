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
	if len(pending) == 0 {
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
	var asks []audit.Record
	for _, st := range inv.pendingSteps {
		asks = append(asks, audit.Record{ID: "approval_requested/" + string(st.Action), Kind: audit.KindApprovalRequested, Action: string(st.Action),
			Reason: fmt.Sprintf("roles %v; deadline %s", st.Approvers, inv.status.ApprovalDeadline.UTC().Format(time.RFC3339))})
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
	inv.status.AwaitingApproval = nil
	if !ok || inv.decision == nil {
		if !inv.closedByAnalyst() {
			inv.log.Info("Approval deadline passed; taking no action.", "Actions", pending)
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
	text := fmt.Sprintf("s1copilot %s: %v still wait(s) for approval (deadline %s). May approve: %s.\n  %s\n  %s\n",
		kind, inv.status.AwaitingApproval, inv.status.ApprovalDeadline.UTC().Format(time.RFC3339), who, sig, st)
	inv.note(kind, text)
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
