package ingest

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/s1client"
)

// Scope limits ingestion to part of the tenant (empty: everything the token sees).
type Scope struct {
	AccountIDs []string `json:"accountIds,omitempty"`
	SiteIDs    []string `json:"siteIds,omitempty"`
	GroupIDs   []string `json:"groupIds,omitempty"`
}

// Poller lists new and changed threats and routes each to its one investigation.
type Poller struct {
	S1             *s1client.Client
	Investigations Investigations
	// PageSize is the list page size (SentinelOne allows up to 1000).
	PageSize int
	// Feedback, when set, records analysts' console changes to threats whose
	// investigation has finished.
	Feedback *ConsoleFeedback
}

// PollInput is one poll's input.
type PollInput struct {
	State PollState `json:"state"`
	// Overlap is how far before each cursor a poll re-reads, for threats that become
	// visible in the list some time after their timestamps.
	Overlap time.Duration `json:"overlap"`
	Scope   Scope         `json:"scope"`
}

// PollResult is one poll's result and the next poll's cursor.
type PollResult struct {
	State PollState `json:"state"`
	// Listed threats (both streams); Started investigations; AlreadyStarted: threats new
	// to the cursor whose investigation existed anyway (counted, never silently merged);
	// Notified: running investigations told of a console change; Closed: changes to
	// threats whose investigation had already finished (nothing to do).
	Listed         int `json:"listed"`
	Started        int `json:"started"`
	AlreadyStarted int `json:"alreadyStarted"`
	Notified       int `json:"notified"`
	Closed         int `json:"closed"`
	// Feedback: analyst feedback records written for changes of finished investigations.
	Feedback int `json:"feedback,omitempty"`
}

// ListAndStartThreats runs both streams once. New threats start their investigation;
// changed threats notify their running investigation, or start one if the threat was
// never investigated (it became visible after the created stream had moved on). Starting
// is idempotent (the workflow ID is derived from the threat ID), so a retried poll is
// harmless; on any error the cursor does not move and the next poll tries again.
func (p *Poller) ListAndStartThreats(ctx context.Context, in PollInput) (PollResult, error) {
	res := PollResult{State: PollState{Created: in.State.Created.clone(), Updated: in.State.Updated.clone()}}
	size := p.PageSize
	if size <= 0 {
		size = 200
	}
	scoped := func(params s1client.ListThreatsParams) s1client.ListThreatsParams {
		params.AccountIDs, params.SiteIDs, params.GroupIDs = in.Scope.AccountIDs, in.Scope.SiteIDs, in.Scope.GroupIDs
		params.Limit, params.SortOrder = size, "asc"
		return params
	}

	created := scoped(s1client.ListThreatsParams{CreatedAtGte: in.State.Created.Since.Add(-in.Overlap), SortBy: "createdAt"})
	// New threats are started in batches, concurrently within a batch: a burst of 200
	// detections would otherwise wait on 200 sequential start calls.
	var batch []s1client.Threat
	flush := func() error {
		started, err := p.startAll(ctx, batch)
		if err != nil {
			return err
		}
		for i, t := range batch {
			id := string(t.ID)
			res.State.Created.Seen[id] = t.ThreatInfo.CreatedAt.Time
			if started[i] {
				// The new investigation reads the threat itself, so the updated stream need
				// not report this version again. (Not so for an existing investigation: this
				// version may carry a console change it has not been told about.)
				res.State.Updated.markSeen(id, t.ThreatInfo.UpdatedAt.Time)
				res.Started++
			} else {
				res.AlreadyStarted++
				activity.GetLogger(ctx).Info("Threat already has an investigation.", "ThreatID", id)
			}
		}
		batch = batch[:0]
		activity.RecordHeartbeat(ctx, res.Listed)
		return nil
	}
	err := p.S1.EachThreat(ctx, created, func(t s1client.Threat) error {
		res.Listed++
		id, at := string(t.ID), t.ThreatInfo.CreatedAt.Time
		res.State.Created.advance(at)
		if _, ok := res.State.Created.Seen[id]; ok {
			return nil
		}
		batch = append(batch, t)
		if len(batch) == startBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return PollResult{}, activities.S1Error("list new threats", err)
	}

	updated := scoped(s1client.ListThreatsParams{UpdatedAtGte: in.State.Updated.Since.Add(-in.Overlap), SortBy: "updatedAt"})
	err = p.S1.EachThreat(ctx, updated, func(t s1client.Threat) error {
		res.Listed++
		id, at := string(t.ID), t.ThreatInfo.UpdatedAt.Time
		res.State.Updated.advance(at)
		if seen, ok := res.State.Updated.Seen[id]; ok && !at.After(seen) {
			return nil
		}
		if err := p.routeChange(ctx, t, &res); err != nil {
			return err
		}
		res.State.Updated.Seen[id] = at
		activity.RecordHeartbeat(ctx, res.Listed)
		return nil
	})
	if err != nil {
		return PollResult{}, activities.S1Error("list changed threats", err)
	}

	res.State.Created.forget(in.Overlap)
	res.State.Updated.forget(in.Overlap)
	if res.Started+res.AlreadyStarted+res.Notified > 0 {
		activity.GetLogger(ctx).Info("Poll done.", "Listed", res.Listed, "Started", res.Started,
			"AlreadyStarted", res.AlreadyStarted, "Notified", res.Notified, "Closed", res.Closed)
	}
	return res, nil
}

// startBatch bounds the threats started concurrently by one poll.
const startBatch = 16

// startAll starts the investigations of threats concurrently; started[i] reports
// whether threats[i]'s is new. Any error fails the whole batch: starts are idempotent,
// so the next poll simply tries them again.
func (p *Poller) startAll(ctx context.Context, threats []s1client.Threat) ([]bool, error) {
	started := make([]bool, len(threats))
	g, gctx := errgroup.WithContext(ctx)
	for i, t := range threats {
		g.Go(func() error {
			ok, err := p.Investigations.Start(gctx, t)
			started[i] = ok
			return err
		})
	}
	return started, g.Wait()
}

// routeChange delivers a changed threat (Route) and records an analyst's change to a
// threat whose investigation has finished.
func (p *Poller) routeChange(ctx context.Context, t s1client.Threat, res *PollResult) error {
	routed, err := Route(ctx, p.Investigations, t)
	if err != nil {
		return err
	}
	switch routed {
	case Notified:
		res.Notified++
	case Started:
		res.Started++
		// The created stream may list it at its next poll (it became visible between
		// the two listings): it is not new any more.
		res.State.Created.markSeen(string(t.ID), t.ThreatInfo.CreatedAt.Time)
		activity.GetLogger(ctx).Info("Changed threat had no investigation; started one.", "ThreatID", string(t.ID))
	case AlreadyInvestigated:
		res.Closed++
		p.observeFeedback(ctx, t, res)
	}
	return nil
}

// observeFeedback records an analyst's change of a finished investigation. A failure is
// logged, not returned: feedback must never hold up ingestion.
func (p *Poller) observeFeedback(ctx context.Context, t s1client.Threat, res *PollResult) {
	if p.Feedback == nil {
		return
	}
	recorded, err := p.Feedback.Observe(ctx, t)
	if err != nil {
		activity.GetLogger(ctx).Warn("Recording analyst feedback failed.", "ThreatID", string(t.ID), "Error", err)
	}
	if recorded {
		res.Feedback++
	}
}
