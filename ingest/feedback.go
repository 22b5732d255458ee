package ingest

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/s1client"
)

// Copilots finds what a threat's finished investigation concluded and wrote back
// (FinishedInvestigations; a fake in tests).
type Copilots interface {
	// Copilot returns the finished investigation's verdict; ok=false when the threat has
	// no finished investigation.
	Copilot(ctx context.Context, threatID string) (cp feedback.Copilot, ok bool, err error)
}

// ConsoleFeedback records analysts' console changes to threats whose investigation has
// finished (a running investigation records them itself, see workflows/feedback.go).
type ConsoleFeedback struct {
	Copilots Copilots
	Audit    audit.Sink
	Now      func() time.Time

	mu sync.Mutex
	// recent holds the record IDs this process wrote, so a change re-read (cursor lost,
	// overlap) is neither written nor counted twice; across processes the deterministic
	// ID lets a SIEM drop the duplicate.
	recent map[string]bool
}

// recentLimit bounds the remembered IDs; at the limit the set starts afresh.
const recentLimit = 10000

// Observe compares a changed threat's console state with its finished investigation's
// verdict and records the analyst's feedback, unless the change is the copilot's own
// write-back or was recorded already; recorded says whether it wrote a record.
func (f *ConsoleFeedback) Observe(ctx context.Context, t s1client.Threat) (recorded bool, err error) {
	ti := t.ThreatInfo
	c := feedback.Console{UpdatedAt: ti.UpdatedAt.Time, IncidentStatus: ti.IncidentStatus, AnalystVerdict: ti.AnalystVerdict, MitigationStatus: ti.MitigationStatus}
	cp, ok, err := f.Copilots.Copilot(ctx, string(t.ID))
	if err != nil || !ok {
		return false, err
	}
	if feedback.IsEcho(c, cp.Wrote) || f.seen(audit.RecordID(cp.InvestigationID, feedback.ConsoleStep(c))) {
		return false, nil
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	r := feedback.Finish(feedback.ConsoleRecord(cp, c), cp, string(t.ID), now())
	if f.Audit != nil {
		if err := f.Audit.Write(ctx, r); err != nil {
			return false, err
		}
	}
	f.remember(r.ID)
	feedback.Count(activity.GetMetricsHandler(ctx), r)
	activity.GetLogger(ctx).Info("Analyst feedback recorded.", "ThreatID", string(t.ID), "Agreement", r.Decision,
		"Copilot", r.Verdict, "AnalystVerdict", c.AnalystVerdict, "IncidentStatus", c.IncidentStatus)
	return true, nil
}

func (f *ConsoleFeedback) seen(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recent[id]
}

func (f *ConsoleFeedback) remember(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recent == nil || len(f.recent) >= recentLimit {
		f.recent = map[string]bool{}
	}
	f.recent[id] = true
}
