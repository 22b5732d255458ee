package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// registerHandlers wires the status query and both approval paths to one piece of
// state, so that the first valid decision wins whichever way it came, and listens for
// the console changes the poller reports.
func (inv *investigator) registerHandlers() error {
	if err := workflow.SetQueryHandler(inv.ctx, StatusQuery, func() (Status, error) { return inv.status, nil }); err != nil {
		return fmt.Errorf("registering %s query: %w", StatusQuery, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(inv.ctx, ApproveUpdate, inv.approveUpdate,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, d Decision) error { return inv.validate(d) }},
	); err != nil {
		return fmt.Errorf("registering %s update: %w", ApproveUpdate, err)
	}
	workflow.Go(inv.ctx, inv.receiveConsoleChanges)
	workflow.Go(inv.ctx, inv.receiveApprovalSignals)
	return nil
}

// approveUpdate records a decision sent as an update, which answers the caller.
// Authorisation is checked here, not in the validator, so that a refusal is recorded
// (history and audit log) rather than leaving no trace.
func (inv *investigator) approveUpdate(ctx workflow.Context, d Decision) (string, error) {
	if inv.repeats(d) {
		return "recorded", nil
	}
	method, err := inv.authenticate(d)
	if err == nil {
		err = inv.authorize(d)
	}
	d.Identity = method
	if err != nil {
		inv.refuse(ctx, d, "update", err)
		return "", temporal.NewNonRetryableApplicationError(err.Error(), "ApproverNotAllowed", nil)
	}
	inv.accept(d, "update")
	return "recorded", nil
}

// receiveApprovalSignals records decisions sent as signals: durable while workers are
// down, but they cannot answer, so a refusal goes to the log and the audit log (the
// signal itself stays in history).
func (inv *investigator) receiveApprovalSignals(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, ApprovalSignal)
	for {
		var d Decision
		ch.Receive(ctx, &d)
		if inv.repeats(d) {
			continue // the same decision delivered again: nothing to do, nothing to refuse
		}
		err := inv.validate(d)
		method := identity.MethodUnsigned
		if err == nil {
			method, err = inv.authenticate(d)
		}
		if err == nil {
			err = inv.authorize(d)
		}
		d.Identity = method
		if err != nil {
			inv.refuse(ctx, d, "signal", err)
			continue
		}
		inv.accept(d, "signal")
	}
}

// receiveConsoleChanges takes the console states the poller reports: an analyst who
// closes the threat in SentinelOne stops the investigation from acting.
func (inv *investigator) receiveConsoleChanges(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, ThreatUpdatedSignal)
	for {
		var cs ConsoleState
		ch.Receive(ctx, &cs)
		inv.consoleSignals++
		if !inv.sawConsole(cs) {
			continue
		}
		inv.observeConsole(ctx, cs)
		if cs.ClosedByAnalyst() {
			inv.log.Info("Threat closed in the SentinelOne console.", "IncidentStatus", cs.IncidentStatus, "AnalystVerdict", cs.AnalystVerdict)
		}
	}
}

// repeats says whether d is the recorded decision sent again (a retried request, a
// double click): the same request ID is the same decision, never a second one.
func (inv *investigator) repeats(d Decision) bool {
	return inv.decision != nil && d.RequestID != "" && d.RequestID == inv.decision.RequestID
}

// validate must not change state: Temporal runs it before accepting an update.
func (inv *investigator) validate(d Decision) error {
	switch {
	case inv.repeats(d):
		return nil
	case inv.decision != nil:
		return fmt.Errorf("already decided by %s", inv.decision.Approver)
	case inv.status.Stage != StageAwaitingApproval:
		return fmt.Errorf("not awaiting approval (stage is %s)", inv.status.Stage)
	case strings.TrimSpace(d.Approver) == "":
		return errors.New("approver identity is required")
	}
	if d.Approved {
		_, err := inv.decisionSteps(d)
		return err
	}
	return nil
}

// decisionSteps are the plan steps a decision covers: the pending ones, or with changes
// the chosen actions — each either pending or one the policy allows here with approval.
func (inv *investigator) decisionSteps(d Decision) ([]policy.Step, error) {
	if len(d.Actions) == 0 {
		return inv.pendingSteps, nil
	}
	var steps []policy.Step
	for _, a := range d.Actions {
		if !a.Valid() {
			return nil, fmt.Errorf("unknown action %q (one of %v)", a, investigation.Actions)
		}
		if i := slices.IndexFunc(inv.pendingSteps, func(st policy.Step) bool { return st.Action == a }); i >= 0 {
			steps = append(steps, inv.pendingSteps[i])
			continue
		}
		in := inv.inputs
		in.Analysis.RecommendedActions = []investigation.Action{a}
		plan := policy.Decide(inv.settings.Policy, in)
		if len(plan.Steps) != 1 || (plan.Steps[0].Disposition != policy.Approve && plan.Steps[0].Disposition != policy.Auto) {
			why := "the policy does not allow it"
			if len(plan.Steps) == 1 {
				why = plan.Steps[0].Reason
			}
			return nil, fmt.Errorf("cannot approve %s instead: %s", a, why)
		}
		st := plan.Steps[0]
		st.Disposition = policy.Approve
		steps = append(steps, st)
	}
	return steps, nil
}

// authorize checks the approver against the policy's roles for every pending step
// (widened to the escalation roles once escalated).
func (inv *investigator) authorize(d Decision) error {
	pol := inv.settings.Policy
	if pol == nil {
		return nil
	}
	steps := inv.pendingSteps
	if d.Approved {
		var err error
		if steps, err = inv.decisionSteps(d); err != nil {
			return err
		}
	}
	if inv.escalated && len(pol.Approvals.EscalateTo) > 0 {
		widened := make([]policy.Step, len(steps))
		for i, st := range steps {
			st.Approvers = append(slices.Clone(st.Approvers), pol.Approvals.EscalateTo...)
			widened[i] = st
		}
		steps = widened
	}
	if inv.status.Review != "" {
		// Settling a disagreement is the policy's disagreements.approvers' to do.
		roles := pol.Disagreements.Approvers
		if inv.escalated && len(roles) > 0 {
			roles = append(slices.Clone(roles), pol.Approvals.EscalateTo...)
		}
		if err := pol.AuthorizeRoles(d.Approver, roles, "a disagreement between the model and SentinelOne"); err != nil {
			return err
		}
	}
	return pol.Authorize(d.Approver, steps)
}

func (inv *investigator) refuse(ctx workflow.Context, d Decision, via string, err error) {
	inv.log.Warn("Approval refused.", "Approver", d.Approver, "Channel", via, "Reason", err.Error())
	inv.refusals++
	inv.auditIn(ctx, audit.Record{ID: fmt.Sprintf("approval_refused/%d", inv.refusals), Kind: audit.KindApprovalRefused,
		Actor: orNone(d.Approver), Channel: via, Identity: d.Identity, Reason: err.Error()})
}

func (inv *investigator) accept(d Decision, via string) {
	if d.Channel == "" {
		d.Channel = via
	}
	inv.decision = &d
	inv.decidedAt = workflow.Now(inv.ctx)
	inv.log.Info("Decision recorded.", "Approver", d.Approver, "Approved", d.Approved, "Channel", d.Channel)
}
