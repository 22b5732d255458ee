package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// Analyst feedback: while an investigation runs, it records the analyst's console
// changes itself (it knows its verdict and exactly what it wrote back); once it has
// finished, the poller does, from this Result (CopilotOf). Both build the record with
// package feedback, so it is the same record (same ID) whichever route saw the change.

// ConsoleWrites are the console states a finished investigation wrote back: Wrote, or
// for an investigation that predates it, what writeBack and writeBackOutcome did then:
// in_progress when it had actions to carry out or approve, then resolved (with its
// verdict when true_positive or suspicious) when every action was verified.
func (r Result) ConsoleWrites() []feedback.Write {
	if r.Wrote != nil {
		return r.Wrote
	}
	acting := slices.ContainsFunc(r.Actions, func(a ActionResult) bool {
		return a.Disposition == policy.Auto || a.Disposition == policy.Approve
	})
	if !acting {
		return nil
	}
	w := []feedback.Write{{IncidentStatus: "in_progress"}}
	if r.Outcome == OutcomeMitigated {
		w = append(w, feedback.Write{IncidentStatus: "resolved", AnalystVerdict: writtenVerdict(r.Verdict)})
	}
	return w
}

// CopilotOf is what a finished investigation concluded and wrote back.
func CopilotOf(runID string, r Result) feedback.Copilot {
	return feedback.Copilot{
		InvestigationID: WorkflowID(r.ThreatID), RunID: runID, Verdict: r.Verdict, Analyzer: r.Analyzer,
		PolicyVersion: r.PolicyVersion, Wrote: r.ConsoleWrites(),
	}
}

// writtenVerdict is the analyst verdict the copilot sets when it resolves a threat.
func writtenVerdict(v investigation.Verdict) string {
	if v == investigation.VerdictTruePositive || v == investigation.VerdictSuspicious {
		return string(v)
	}
	return ""
}

func (inv *investigator) copilot() feedback.Copilot {
	cp := feedback.Copilot{Wrote: inv.wrote}
	if an := inv.status.Analysis; an != nil {
		cp.Verdict, cp.Analyzer = an.Verdict, an.Analyzer
	}
	if inv.status.Plan != nil {
		cp.PolicyVersion = inv.status.Plan.PolicyVersion
	}
	return cp
}

// observeConsole handles a newer console state (from the threat-updated handler): an
// analyst's new opinion, not the echo of the copilot's own write-back, is recorded —
// at once if the analysis is done, otherwise as soon as it is.
func (inv *investigator) observeConsole(ctx workflow.Context, cs ConsoleState) {
	c := cs.feedback()
	prev := inv.opinion
	inv.opinion = &c
	if feedback.IsEcho(c, inv.wrote) || (prev != nil && feedback.SameOpinion(c, *prev)) {
		return
	}
	if inv.status.Analysis == nil {
		inv.pendingFeedback = append(inv.pendingFeedback, c)
		return
	}
	inv.recordFeedback(ctx, feedback.ConsoleRecord(inv.copilot(), c))
}

// flushFeedback records the console changes seen before the analysis was done.
func (inv *investigator) flushFeedback() {
	pending := inv.pendingFeedback
	inv.pendingFeedback = nil
	for _, c := range pending {
		inv.recordFeedback(inv.ctx, feedback.ConsoleRecord(inv.copilot(), c))
	}
}

func (inv *investigator) recordFeedback(ctx workflow.Context, r audit.Record) {
	inv.feedbackInFlight++
	defer func() { inv.feedbackInFlight-- }()
	// The counter is emitted by RecordAudit: every s1copilot_ metric comes from an
	// activity, so Prometheus sees one label set per name.
	inv.auditIn(ctx, r)
}

func (c ConsoleState) feedback() feedback.Console {
	return feedback.Console{UpdatedAt: c.UpdatedAt, IncidentStatus: c.IncidentStatus, AnalystVerdict: c.AnalystVerdict, MitigationStatus: c.MitigationStatus}
}
