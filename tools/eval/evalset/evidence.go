package evalset

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/evidence"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const simToken = "eval-token"

// CollectEvidence serves f's scenario from an in-process simulator and reads
// each threat through the S1 client the way the EnrichThreat activity does:
// threat → facts (activities.ThreatFacts), agent record overlaid
// (activities.MergeAgent, a missing agent is not fatal), then the timeline,
// capped at activities.TimelineLimit, and the context the GatherContext activity
// reads for a model (evidence.Gather). The result is indexed like f.Cases.
func CollectEvidence(ctx context.Context, f *File) ([]investigation.Evidence, error) {
	sim, err := simulator.New(f.Scenario, simulator.Options{Token: simToken})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	client, err := s1client.New(srv.URL, simToken, s1client.WithoutRateLimits(), s1client.WithUserAgent("s1copilot-eval"))
	if err != nil {
		return nil, err
	}
	out := make([]investigation.Evidence, len(f.Cases))
	for i, c := range f.Cases {
		ev, err := enrich(ctx, client, c.ThreatID)
		if err != nil {
			return nil, fmt.Errorf("%s: threat %s: %w", f.Name, c.ThreatID, err)
		}
		out[i] = ev
	}
	return out, nil
}

// enrich mirrors activities.(*Activities).EnrichThreat without Temporal.
func enrich(ctx context.Context, s1 *s1client.Client, threatID string) (investigation.Evidence, error) {
	t, err := s1.GetThreat(ctx, threatID)
	if err != nil {
		return investigation.Evidence{}, err
	}
	ev := investigation.Evidence{Facts: activities.ThreatFacts(t)}
	if agentID := string(t.AgentRealtimeInfo.AgentID); agentID != "" {
		ag, err := s1.GetAgent(ctx, agentID)
		switch {
		case err == nil:
			activities.MergeAgent(&ev.Facts, ag)
		case errors.Is(err, s1client.ErrNotFound):
		default:
			return investigation.Evidence{}, err
		}
	}
	entries, err := s1.ThreatTimeline(ctx, threatID, activities.TimelineLimit+1)
	if err != nil {
		return investigation.Evidence{}, err
	}
	for i, e := range entries {
		if i == activities.TimelineLimit {
			ev.TimelineOmitted = len(entries) - activities.TimelineLimit
			break
		}
		ev.Timeline = append(ev.Timeline, investigation.TimelineItem{
			At: e.CreatedAt.Time, ActivityType: e.ActivityType.Int(),
			Description: clip(strings.TrimSpace(e.PrimaryDescription+" "+e.SecondaryDescription), 300),
		})
	}
	c, err := evidence.Gather(ctx, s1, ev.Facts)
	if err != nil {
		return investigation.Evidence{}, err
	}
	ev.Context = &c
	return ev, nil
}

// clip is activities' (unexported) clip.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
