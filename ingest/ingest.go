// Package ingest brings SentinelOne threats to their investigations. Two roads lead in:
// the poller (one long-running workflow per deployment that lists new and changed
// threats, PollThreats) and the push endpoint (Push, for a console automation that wants
// a threat investigated now). Both deliver a threat through Route, and every start goes
// through the investigation's own ID, so a threat has one investigation however, and
// however often, it arrives.
package ingest

import (
	"context"
	"github.com/s1copilot/s1copilot/activities"

	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/workflows"
)

// Investigations is how ingestion reaches investigations: OnTemporal in production,
// a fake in tests.
type Investigations interface {
	// Start starts the investigation of a threat; started=false, without an error, when
	// the threat already has one (running or finished).
	Start(ctx context.Context, t s1client.Threat) (started bool, err error)
	// Notify tells the threat's running investigation about its console state;
	// running=false when no investigation of it is running.
	Notify(ctx context.Context, t s1client.Threat) (running bool, err error)
}

// Routed says what Route did with a threat.
type Routed string

const (
	// Notified: the running investigation was told the threat's console state.
	Notified Routed = "notified"
	// Started: the threat had no investigation; now it has one.
	Started Routed = "started"
	// AlreadyInvestigated: its investigation has finished; nothing was done.
	AlreadyInvestigated Routed = "already_investigated"
)

// Route delivers a threat to its one investigation: a running one is told the
// threat's console state (an analyst may have resolved it), a threat that never had one
// gets one, a finished one is left alone.
func Route(ctx context.Context, inv Investigations, t s1client.Threat) (Routed, error) {
	running, err := inv.Notify(ctx, t)
	if err != nil {
		return "", err
	}
	if running {
		return Notified, nil
	}
	started, err := inv.Start(ctx, t)
	if err != nil {
		return "", err
	}
	if started {
		return Started, nil
	}
	return AlreadyInvestigated, nil
}

// OnTemporal is Investigations on the deployment's Temporal client.
type OnTemporal struct {
	Investigations workflows.Investigations
}

// Start starts the threat's one investigation, with what the list already says about
// it: for the Web UI, and as the investigation's first look at the threat.
func (o OnTemporal) Start(ctx context.Context, t s1client.Threat) (bool, error) {
	facts := activities.ThreatFacts(t)
	return o.Investigations.Start(ctx, string(t.ID), workflows.StartHint{
		ThreatName: t.ThreatInfo.ThreatName, AgentName: t.AgentRealtimeInfo.AgentComputerName, SiteID: string(t.AgentRealtimeInfo.SiteID),
		// The investigation need not read again what the poller has just read.
		Snapshot: &facts,
	})
}

// Notify signals the threat's running investigation with its console state.
func (o OnTemporal) Notify(ctx context.Context, t s1client.Threat) (bool, error) {
	ti := t.ThreatInfo
	return o.Investigations.Notify(ctx, string(t.ID), workflows.ConsoleState{
		UpdatedAt: ti.UpdatedAt.Time, IncidentStatus: ti.IncidentStatus, AnalystVerdict: ti.AnalystVerdict, MitigationStatus: ti.MitigationStatus,
	})
}
