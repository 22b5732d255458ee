package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
)

// sawConsoleAtEnrichment records the console state the investigation read, unless the
// poller reported a newer one already, and the analyst's opinion it began with: only
// a change of that opinion is feedback.
func (inv *investigator) sawConsoleAtEnrichment(f investigation.ThreatFacts) {
	read := ConsoleState{IncidentStatus: f.IncidentStatus, AnalystVerdict: f.AnalystVerdict, MitigationStatus: f.MitigationStatus, Source: ConsoleRead}
	if inv.opinion == nil {
		c := read.feedback()
		inv.opinion = &c
	}
	if inv.seen == nil {
		inv.seen = &read
		inv.status.Console = &read
	}
}

// sawConsole takes a console state the poller reported. Polls overlap, so the same or
// an older state can arrive again: only a newer one counts.
func (inv *investigator) sawConsole(cs ConsoleState) bool {
	if inv.seen != nil && !cs.UpdatedAt.After(inv.seen.UpdatedAt) {
		return false
	}
	cs.Source = ConsoleReported
	inv.seen = &cs
	inv.status.Console = &cs
	return true
}

// closedByAnalyst: a human closed the threat in the console, so s1copilot does not act.
func (inv *investigator) closedByAnalyst() bool {
	return inv.seen != nil && inv.seen.ClosedByAnalyst()
}

// writeBackOutcome records the result in the console: resolved with our verdict when every
// action was verified, otherwise still in progress for an analyst to finish.
func (inv *investigator) writeBackOutcome(res Result) {
	if res.Outcome == OutcomeMitigated {
		inv.writeBack("resolved", writtenVerdict(res.Verdict))
	}
}

// writeBack sets the console's incident status; a refusal is logged and does not stop
// the response.
func (inv *investigator) writeBack(status, verdict string) {
	in := activities.WriteBackInput{ThreatID: inv.status.ThreatID, IncidentStatus: status, AnalystVerdict: verdict}
	// Noted before the call: the poller may report the change before the activity returns.
	inv.wrote = append(inv.wrote, feedback.Write{IncidentStatus: status, AnalystVerdict: verdict})
	outcome := "done"
	if err := workflow.ExecuteActivity(inv.s1("set incident status "+status), a.WriteBack, in).Get(inv.ctx, nil); err != nil {
		inv.log.Error("Write-back failed.", "IncidentStatus", status, "Error", err)
		outcome = "failed: " + rootMessage(err)
	} else {
		// What the status query shows is labelled: s1copilot wrote this, nobody read it back.
		written := ConsoleState{UpdatedAt: workflow.Now(inv.ctx), IncidentStatus: status, AnalystVerdict: verdict, Source: ConsoleWritten}
		if inv.seen != nil {
			written.MitigationStatus = inv.seen.MitigationStatus
		}
		inv.status.Console = &written
	}
	inv.audit(audit.Record{ID: "writeback/" + status, Kind: audit.KindWriteback, Decision: outcome,
		Reason: "incident status " + status + ", analyst verdict " + orNone(verdict)})
}

// note posts a note; a refused note is logged and does not stop the response.
func (inv *investigator) note(step, text string) {
	in := activities.NoteInput{ThreatID: inv.status.ThreatID, Marker: noteMarker(workflow.GetInfo(inv.ctx).WorkflowExecution.ID, step), Text: text, FirstPost: inv.firstRun()}
	if err := workflow.ExecuteActivity(inv.s1("post "+step+" note"), a.PostNote, in).Get(inv.ctx, nil); err != nil {
		inv.log.Error("Posting note failed.", "Step", step, "Error", err)
	}
}
