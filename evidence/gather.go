// Package evidence gathers what SentinelOne knows around a threat, beyond the threat
// record itself, for the model: the storyline's process tree and its network, file and
// registry activity (explore events), how many endpoints saw the same file, and the
// host's earlier threats. It is bounded by construction (see Summarize's limits), so
// it fits a prompt budget and a workflow history entry.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
)

// Limits of what is read: one page each, so gathering costs exactly three requests.
const (
	ExploreEventLimit = 300
	PriorThreatLimit  = 10
)

// Gather reads the context of the threat described by f with at most three requests:
// one explore-events page (a /threats sub-path), one GET /agents (count only) and one
// GET /threats (the host's earlier threats, checked again here: what the console returns
// for other hosts or after the threat is left out). Each is tried once: a part that fails
// (refused, rate-limited, a server error) is listed in Unavailable with the reason and
// the rest is kept. Context only improves an analysis, so it is not worth re-sending
// the other requests, or spending the console's budget (the /agents class allows a
// burst of 1), to complete it. Only the caller's own cancellation is returned.
func Gather(ctx context.Context, s1 *s1client.Client, f investigation.ThreatFacts) (investigation.Context, error) {
	var c investigation.Context
	unavailable := func(part string, err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("evidence: %s of threat %s: %w", part, f.ThreatID, ctx.Err())
		}
		kind := "refused"
		if !permanent(err) {
			kind = "failed, not retried"
		}
		c.Unavailable = append(c.Unavailable, fmt.Sprintf("%s (%s): %v", part, kind, err))
		return nil
	}

	events, err := s1.ThreatExploreEvents(ctx, f.ThreatID, s1client.ExploreParams{Limit: ExploreEventLimit})
	if err != nil {
		if err := unavailable("explore events", err); err != nil {
			return c, err
		}
	} else {
		c = Summarize(events, f.FilePath)
		if len(events) == ExploreEventLimit {
			c.Cut = append(c.Cut, fmt.Sprintf("events after the first %d", ExploreEventLimit))
		}
	}

	if sha1 := strings.TrimSpace(f.SHA1); sha1 == "" {
		c.Unavailable = append(c.Unavailable, "prevalence: the threat has no SHA1")
	} else {
		page, err := s1.ListAgents(ctx, s1client.ListAgentsParams{ThreatContentHashes: []string{sha1}, CountOnly: true, Limit: 1})
		if err != nil {
			if err := unavailable("prevalence", err); err != nil {
				return c, err
			}
		} else {
			c.Prevalence = &investigation.Prevalence{SHA1: strings.ToLower(sha1), Endpoints: page.TotalItems}
		}
	}

	if f.AgentID == "" {
		c.Unavailable = append(c.Unavailable, "prior threats: the threat names no agent")
		return c, nil
	}
	p := s1client.ListThreatsParams{AgentIDs: []string{f.AgentID}, SortBy: "createdAt", SortOrder: "desc", Limit: PriorThreatLimit + 1}
	if !f.CreatedAt.IsZero() {
		// Threats at the same instant may be part of the same attack: keep them.
		p.CreatedAtLte = f.CreatedAt.Add(time.Millisecond)
	}
	page, err := s1.ListThreats(ctx, p)
	if err != nil {
		if err := unavailable("prior threats", err); err != nil {
			return c, err
		}
		return c, nil
	}
	total, kept, foreign := page.TotalItems, 0, 0
	for _, t := range page.Items {
		if string(t.ID) == f.ThreatID {
			total-- // the threat itself
			continue
		}
		// The console's filters are not trusted: a threat of another host, or one
		// detected after this one, is not this host's history.
		if string(t.AgentRealtimeInfo.AgentID) != f.AgentID ||
			!f.CreatedAt.IsZero() && t.ThreatInfo.CreatedAt.After(f.CreatedAt.Add(time.Millisecond)) {
			foreign++
			continue
		}
		kept++
		if len(c.PriorThreats) == PriorThreatLimit {
			continue
		}
		ti := t.ThreatInfo
		c.PriorThreats = append(c.PriorThreats, investigation.PriorThreat{
			ThreatID: string(t.ID), ThreatName: ti.ThreatName, CreatedAt: ti.CreatedAt.Time,
			Classification: ti.Classification, ConfidenceLevel: ti.ConfidenceLevel,
			AnalystVerdict: ti.AnalystVerdict, MitigationStatus: ti.MitigationStatus,
			SameFile: f.SHA1 != "" && strings.EqualFold(ti.SHA1, f.SHA1),
		})
	}
	if foreign > 0 {
		// A console that ignored the filters counted every threat in its total.
		total = kept
		c.Cut = append(c.Cut, fmt.Sprintf("%d threats the console listed for other hosts or after this one (its filters were not applied)", foreign))
	}
	c.PriorThreatsTotal = max(total, len(c.PriorThreats))
	return c, nil
}

// permanent reports a refusal that a retry cannot change.
func permanent(err error) bool {
	return errors.Is(err, s1client.ErrForbidden) || errors.Is(err, s1client.ErrNotFound) ||
		errors.Is(err, s1client.ErrValidation) || errors.Is(err, s1client.ErrUnauthorized)
}
