package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/s1copilot/s1copilot/s1client"
)

// StartFunc starts the investigation of one threat. It reports started=false, without
// an error, when the threat already has an investigation (running or finished).
type StartFunc func(ctx context.Context, t s1client.Threat) (started bool, err error)

// Poller lists new threats and starts one investigation per threat.
type Poller struct {
	S1    *s1client.Client
	Start StartFunc
	// PageSize is the list page size (SentinelOne allows up to 1000).
	PageSize int
}

// PollState is the poller's durable cursor, carried from one poll to the next as the
// Schedule's last completion result.
type PollState struct {
	// Since is the newest createdAt seen so far (SentinelOne's clock, not ours).
	Since time.Time `json:"since"`
	// Seen holds the threats already handled inside the overlap window, so re-reading
	// the window does not even try to start them again.
	Seen map[string]time.Time `json:"seen,omitempty"`
}

// PollInput is one poll's input.
type PollInput struct {
	State PollState `json:"state"`
	// Overlap is how far before Since each poll re-reads, for threats that become visible
	// in the list some time after their createdAt.
	Overlap time.Duration `json:"overlap"`
}

// PollResult is one poll's result and the next poll's cursor.
type PollResult struct {
	State PollState `json:"state"`
	// Listed threats, Started investigations, AlreadyStarted: threats new to this cursor
	// whose investigation existed anyway (counted, not silently swallowed).
	Listed         int `json:"listed"`
	Started        int `json:"started"`
	AlreadyStarted int `json:"alreadyStarted"`
}

// ListAndStartThreats lists threats created since the cursor (minus the overlap) and
// starts an investigation for each one not seen before. Starting is idempotent (the
// workflow ID is derived from the threat ID), so a retried poll is harmless.
func (p *Poller) ListAndStartThreats(ctx context.Context, in PollInput) (PollResult, error) {
	log := activity.GetLogger(ctx)
	from := in.State.Since.Add(-in.Overlap)
	res := PollResult{State: PollState{Since: in.State.Since, Seen: map[string]time.Time{}}}
	for id, at := range in.State.Seen {
		res.State.Seen[id] = at
	}
	size := p.PageSize
	if size <= 0 {
		size = 200
	}
	params := s1client.ListThreatsParams{CreatedAtGte: from, SortBy: "createdAt", SortOrder: "asc", Limit: size}
	err := p.S1.EachThreat(ctx, params, func(t s1client.Threat) error {
		res.Listed++
		id := string(t.ID)
		created := t.ThreatInfo.CreatedAt.Time
		if created.After(res.State.Since) {
			res.State.Since = created
		}
		if _, ok := res.State.Seen[id]; ok {
			return nil
		}
		started, err := p.Start(ctx, t)
		if err != nil {
			return err // the cursor does not move: the next poll tries again
		}
		res.State.Seen[id] = created
		if started {
			res.Started++
		} else {
			res.AlreadyStarted++
			log.Info("Threat already has an investigation.", "ThreatID", id)
		}
		activity.RecordHeartbeat(ctx, res.Listed)
		return nil
	})
	if err != nil {
		return PollResult{}, s1Err("list threats", err)
	}
	// Forget what has left the overlap window; the cursor alone covers it now.
	horizon := res.State.Since.Add(-in.Overlap)
	for id, at := range res.State.Seen {
		if at.Before(horizon) {
			delete(res.State.Seen, id)
		}
	}
	if res.Started > 0 || res.AlreadyStarted > 0 {
		log.Info("Poll done.", "Listed", res.Listed, "Started", res.Started, "AlreadyStarted", res.AlreadyStarted)
	}
	return res, nil
}
