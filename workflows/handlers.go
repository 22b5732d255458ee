package workflows

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// registerHandlers wires the status query and both approval paths to one piece of
// state, so that the first valid decision wins whichever way it came.
func (inv *investigator) registerHandlers() error {
	ctx := inv.ctx
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (Status, error) { return inv.status, nil }); err != nil {
		return fmt.Errorf("registering %s query: %w", StatusQuery, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ApproveUpdate,
		func(ctx workflow.Context, d Decision) (string, error) {
			inv.accept(d, "update")
			return "recorded", nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d Decision) error { return inv.validate(d) }},
	); err != nil {
		return fmt.Errorf("registering %s update: %w", ApproveUpdate, err)
	}
	updates := workflow.GetSignalChannel(ctx, ThreatUpdatedSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var cs ConsoleState
			updates.Receive(ctx, &cs)
			// Polls overlap, so the same or an older state can arrive again: keep the newest.
			if inv.status.Console == nil || cs.UpdatedAt.After(inv.status.Console.UpdatedAt) {
				inv.status.Console = &cs
				if cs.ClosedByAnalyst() {
					inv.log.Info("Threat closed in the SentinelOne console.", "IncidentStatus", cs.IncidentStatus, "AnalystVerdict", cs.AnalystVerdict)
				}
			}
		}
	})
	ch := workflow.GetSignalChannel(ctx, ApprovalSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var d Decision
			ch.Receive(ctx, &d)
			if err := inv.validate(d); err != nil {
				// Signals cannot answer; the refusal is in the worker log and the
				// signal itself stays in history for the audit.
				inv.log.Warn("Approval signal ignored.", "Approver", d.Approver, "Reason", err.Error())
				continue
			}
			inv.accept(d, "signal")
		}
	})
	return nil
}

// validate must not change state: Temporal runs it before accepting an update.
func (inv *investigator) validate(d Decision) error {
	switch {
	case inv.decision != nil:
		return fmt.Errorf("already decided by %s", inv.decision.Approver)
	case inv.status.Stage != StageAwaitingApproval:
		return fmt.Errorf("not awaiting approval (stage is %s)", inv.status.Stage)
	case strings.TrimSpace(d.Approver) == "":
		return errors.New("approver identity is required")
	}
	return nil
}

func (inv *investigator) accept(d Decision, via string) {
	if d.Channel == "" {
		d.Channel = via
	}
	inv.decision = &d
	inv.log.Info("Decision recorded.", "Approver", d.Approver, "Approved", d.Approved, "Channel", d.Channel)
}
