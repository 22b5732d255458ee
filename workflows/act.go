package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// requested are actions SentinelOne accepted, awaiting verification: POST and verify
// are separate activities, so a verify retry never re-POSTs.
type requested struct {
	disposition policy.Disposition
	// first is the index in status.Actions of the batch's first action.
	first    int
	verifies []pendingVerify
}

type pendingVerify struct {
	idx int
	in  activities.VerifyInput
	fut workflow.Future
}

// contain carries out the plan's automatic actions at once: low-impact containment
// does not wait for the approval of the rest.
func (inv *investigator) contain(f investigation.ThreatFacts, plan policy.Plan) requested {
	return inv.act(f, plan.Actions(policy.Auto), policy.Auto)
}

// act requests each action in order, unless an analyst closed the threat in the
// console meanwhile: a human's decision in SentinelOne outranks the copilot's plan.
func (inv *investigator) act(f investigation.ThreatFacts, actions []investigation.Action, d policy.Disposition) requested {
	batch := requested{disposition: d, first: len(inv.status.Actions)}
	if len(actions) == 0 {
		return batch
	}
	if inv.closedByAnalyst() {
		inv.result.ClosedInConsole = true
		inv.record(actions, d, ActionNotTaken, "the threat was closed in the SentinelOne console ("+inv.seen.summary()+")")
		return batch
	}
	inv.setStage(StageMitigating)
	for _, act := range actions {
		in := activities.MitigateInput{ThreatID: f.ThreatID, AgentID: f.AgentID, Action: act,
			// Acting right after enrichment on a threat that showed no action, with no
			// console change since, nobody can have requested it yet.
			FirstRequest: d == policy.Auto && inv.firstRun() && inv.consoleSignals == 0 && len(f.Mitigations) == 0}
		if act == investigation.ActionCollectForensics {
			in.FirstRequest, in.Forensics = false, inv.forensicsRequest(f)
		}
		var mr activities.MitigateResult
		err := workflow.ExecuteActivity(inv.s1("request "+string(act)), a.Mitigate, in).Get(inv.ctx, &mr)
		in.ParentTaskID = mr.ParentTaskID
		r := ActionResult{Action: act, Disposition: d, Batch: mr.Batch}
		switch {
		case err != nil:
			r.State, r.Detail = ActionRefused, "SentinelOne refused the request: "+rootMessage(err)
		case mr.Refused != "":
			r.State, r.Detail = ActionRefused, mr.Refused
		}
		inv.status.Actions = append(inv.status.Actions, r)
		if r.State == "" {
			batch.verifies = append(batch.verifies, pendingVerify{idx: len(inv.status.Actions) - 1, in: in,
				fut: workflow.ExecuteActivity(inv.verifyOptions(act), a.VerifyMitigation, in)})
		}
	}
	return batch
}

// verify waits until SentinelOne reports each requested action settled (in parallel:
// one slow action does not delay the others' verdicts) and audits the batch.
// "Accepted" is not "done": a result is success, failed, pending-reboot or timed_out.
func (inv *investigator) verify(batch requested) {
	if len(batch.verifies) > 0 {
		inv.setStage(StageVerifying)
		for _, v := range batch.verifies {
			inv.settle(&inv.status.Actions[v.idx], v)
		}
		inv.updateDetails()
	}
	if batch.first < len(inv.status.Actions) {
		inv.tellSlack()
	}
	step := "action/auto"
	if batch.disposition == policy.Approve {
		step = "action/approved"
	}
	inv.auditActions(step, inv.status.Actions[batch.first:])
}

// settle records the verified state of one action.
func (inv *investigator) settle(r *ActionResult, v pendingVerify) {
	var vr activities.VerifyResult
	err := v.fut.Get(inv.ctx, &vr)
	if neverSettled(err) {
		// The deadline can pass while an attempt is held by a worker that died: one
		// last read tells "not settled" from "not checked in time".
		if look, ok := inv.lastLook(v.in); ok {
			vr, err = look, nil
			vr.Detail = strings.TrimSpace(vr.Detail + " (verified after the deadline)")
		}
	}
	switch {
	case neverSettled(err):
		r.State = ActionTimedOut
		r.Detail = fmt.Sprintf("accepted by SentinelOne but not settled after %s", inv.settings.MitigationTimeout)
		if r.Action == investigation.ActionRollback {
			r.Detail += " (rollback needs VSS snapshots on a Windows agent; check the agent's snapshot policy)"
		}
	case err != nil:
		r.State, r.Detail = ActionFailed, "could not verify: "+rootMessage(err)
	default:
		r.State, r.Detail = ActionState(vr.State), vr.Detail
	}
	r.Forensics = vr.Forensics
	if r.Action == investigation.ActionCollectForensics && r.Forensics == nil {
		r.Forensics = &activities.Forensics{ParentTaskID: v.in.ParentTaskID, NoFile: "it could not be verified"}
		if neverSettled(err) {
			// The last status read says where it stands, e.g. held for a console user's approval.
			r.Detail = fmt.Sprintf("not finished after %s (%s)", inv.settings.Policy.Forensics.TimeoutOrDefault(), rootMessage(err))
			r.Forensics.NoFile = "the task did not finish in time"
		}
	}
}

// forensicsRequest is the collection script the policy names for the agent's OS. The
// marker is the investigation's ID: a reset run finds what an earlier run started.
func (inv *investigator) forensicsRequest(f investigation.ThreatFacts) *activities.ForensicsRequest {
	fp := inv.settings.Policy.Forensics
	return &activities.ForensicsRequest{
		ScriptID:    fp.ScriptFor(f.OSType),
		InputParams: fp.InputParams,
		Timeout:     fp.TimeoutOrDefault(),
		Marker:      "s1c:" + workflow.GetInfo(inv.ctx).WorkflowExecution.ID,
		Since:       f.CreatedAt,
	}
}

// lastLook reads an action's state once more after its verification deadline; ok is
// false when it is still not settled or cannot be read.
func (inv *investigator) lastLook(in activities.VerifyInput) (activities.VerifyResult, bool) {
	ctx := workflow.WithActivityOptions(inv.ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		// One read, and one more if a worker dies holding it; "not settled" is final.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 2, NonRetryableErrorTypes: []string{activities.ErrTypeNotSettled}},
		TaskQueue:   inv.settings.S1TaskQueue,
		Summary:     "last look: " + string(in.Action),
	})
	var vr activities.VerifyResult
	if err := workflow.ExecuteActivity(ctx, a.VerifyMitigation, in).Get(inv.ctx, &vr); err != nil {
		return vr, false
	}
	return vr, true
}

// record adds actions that were not carried out, with the reason.
func (inv *investigator) record(actions []investigation.Action, d policy.Disposition, st ActionState, detail string) {
	for _, act := range actions {
		inv.status.Actions = append(inv.status.Actions, ActionResult{Action: act, Disposition: d, State: st, Detail: detail})
	}
}

// firstRun: this run is the investigation's first, not a reset, retried or continued
// one, so nothing it is about to send can have been sent by an earlier run. (Unknown
// counts as not first.)
func (inv *investigator) firstRun() bool {
	info := workflow.GetInfo(inv.ctx)
	return info.FirstRunID != "" && info.WorkflowExecution.RunID == info.FirstRunID
}

// reserveAuto asks the control workflow for the plan's automatic actions. Fail safe: if
// it cannot be reached, nothing runs automatically.
func (inv *investigator) reserveAuto(plan *policy.Plan) {
	auto := plan.Actions(policy.Auto)
	if len(auto) == 0 {
		return
	}
	var rr control.ReserveResult
	in := activities.ReserveInput{InvestigationID: workflow.GetInfo(inv.ctx).WorkflowExecution.ID, Step: "auto", Actions: auto, Auto: true, Caps: inv.settings.Policy.Caps}
	if err := workflow.ExecuteActivity(inv.short("reserve automatic actions"), a.ReserveActions, in).Get(inv.ctx, &rr); err != nil {
		inv.log.Error("Reserving automatic actions failed; they wait for approval.", "Error", err)
		convertAuto(plan, auto, func(investigation.Action) string {
			return "the control workflow could not be reached: " + rootMessage(err)
		})
		return
	}
	convertAuto(plan, auto, func(a investigation.Action) string { return rr.Denied[a] })
}

// countApproved counts approved actions in the control workflow (isolations count
// toward the caps whoever decided them); a failure only loses a count.
func (inv *investigator) countApproved(actions []investigation.Action) {
	in := activities.ReserveInput{InvestigationID: workflow.GetInfo(inv.ctx).WorkflowExecution.ID, Step: "approved", Actions: actions, Caps: inv.settings.Policy.Caps}
	if err := workflow.ExecuteActivity(inv.short("count approved actions"), a.ReserveActions, in).Get(inv.ctx, nil); err != nil {
		inv.log.Warn("Counting approved actions failed.", "Error", err)
	}
}

// convertAuto turns automatic steps into approvals where why returns a reason.
func convertAuto(plan *policy.Plan, actions []investigation.Action, why func(investigation.Action) string) {
	for i, st := range plan.Steps {
		if st.Disposition != policy.Auto || !slices.Contains(actions, st.Action) {
			continue
		}
		if reason := why(st.Action); reason != "" {
			plan.Steps[i].Disposition = policy.Approve
			plan.Steps[i].Reason = reason
		}
	}
}

// outcomeOf summarises the verified states of the actions carried out.
func outcomeOf(r Result) Outcome {
	var done, ok int
	for _, act := range r.Actions {
		if act.State == ActionNotTaken {
			continue
		}
		done++
		if act.State == ActionSucceeded {
			ok++
		}
	}
	switch {
	case done == 0 && r.ClosedInConsole:
		return OutcomeResolvedInConsole
	case done == 0 && r.ApprovalTimedOut:
		return OutcomeApprovalTimedOut
	case done == 0 && r.Decision != nil && !r.Decision.Approved:
		return OutcomeRejected
	case done == 0:
		return OutcomeRecommended
	case ok == done:
		return OutcomeMitigated
	case ok == 0:
		return OutcomeMitigationFailed
	}
	return OutcomePartiallyMitigated
}

// neverSettled reports whether a verify activity gave up because the action stayed
// pending: the budget ran out (timeout) or the last attempt still said "not settled".
func neverSettled(err error) bool {
	var te *temporal.TimeoutError
	var app *temporal.ApplicationError
	return errors.As(err, &te) || (errors.As(err, &app) && app.Type() == activities.ErrTypeNotSettled)
}
