package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/handoff"
)

// ErrTypeHandoffRefused: the receiver refused the case (a 4xx, a redirect, an unusable
// ticket ID); retrying cannot help until its configuration changes.
const ErrTypeHandoffRefused = "HandoffRefused"

// HandOffCase delivers one stage of a case to the SOAR or ticketing system. One attempt
// per call: the activity's retry policy is the backoff, and the idempotency key (the
// same on every retry) lets the receiver see each stage at most once.
func (a *Activities) HandOffCase(ctx context.Context, in HandoffInput) (HandoffResult, error) {
	if a.Handoff == nil {
		return HandoffResult{}, temporal.NewNonRetryableApplicationError("no hand-off receiver is configured on this worker (S1C_HANDOFF_URL)", ErrTypeBadInput, nil)
	}
	r, err := a.Handoff.Send(ctx, in.Case, in.IdempotencyKey)
	var tid *handoff.TicketIDError
	var de *handoff.DeliveryError
	switch {
	case errors.As(err, &tid):
		// Delivered; only the ticket is unusable: say so, keep the delivery.
		return HandoffResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeHandoffRefused, nil)
	case errors.As(err, &de) && de.Retryable:
		return HandoffResult{}, temporal.NewApplicationErrorWithOptions(err.Error(), "HandoffUnavailable", temporal.ApplicationErrorOptions{NextRetryDelay: de.RetryAfter})
	case err != nil:
		return HandoffResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeHandoffRefused, nil)
	}
	return HandoffResult{TicketID: r.TicketID, Duplicate: r.Duplicate}, nil
}

// SetTicketID writes a receiver's ticket ID to the threat (externalTicketId), unless the
// threat carries it already: a retry writes it once.
func (a *Activities) SetTicketID(ctx context.Context, in TicketInput) error {
	if in.ThreatID == "" || in.TicketID == "" {
		return temporal.NewNonRetryableApplicationError("a ticket write needs the threat ID and the ticket ID", ErrTypeBadInput, nil)
	}
	t, err := a.getThreat(ctx, in.ThreatID)
	if err != nil {
		return S1Error("get threat "+in.ThreatID, err)
	}
	if t.ThreatInfo.ExternalTicketID == in.TicketID {
		return nil
	}
	if _, err := a.S1.SetExternalTicketID(ctx, in.ThreatID, in.TicketID); err != nil {
		return S1Error("set the external ticket ID of "+in.ThreatID, err)
	}
	return nil
}
