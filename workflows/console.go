package workflows

import (
	"cmp"
	"slices"

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
	inv.readStatus = f.IncidentStatus
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

// outcomeInConsole is the change that leaves the console right at every outcome
// (before it, only a verified mitigation was written back and every other outcome
// stayed in_progress) and audits every end of a pending decision.
const outcomeInConsole = "outcome-in-console"

// consoleMatchesOutcome: this run has the outcomeInConsole change.
func (inv *investigator) consoleMatchesOutcome() bool {
	return workflow.GetVersion(inv.ctx, outcomeInConsole, workflow.DefaultVersion, 1) >= 1
}

// writeBackOutcome leaves the console as the outcome says, and nothing waits any more:
//   - every action verified: resolved, with our verdict;
//   - an action failed or never settled: unresolved, with our verdict, for an analyst
//     to finish what s1copilot could not;
//   - nothing done (rejected, no decision in time, a review settled): the status it had
//     before s1copilot marked it in progress, verdict untouched; the copilot decided
//     nothing, so the console stays the analyst's.
//
// An investigation that wrote nothing leaves the console alone, and a status an
// analyst changed meanwhile is theirs.
func (inv *investigator) writeBackOutcome(res Result) {
	if !inv.consoleMatchesOutcome() {
		if len(res.ConsoleWrites()) > 0 && res.Outcome == OutcomeMitigated {
			inv.writeBack("resolved", writtenVerdict(res.Verdict))
		}
		return
	}
	if len(inv.wrote) == 0 && !slices.ContainsFunc(res.Actions, func(a ActionResult) bool { return a.State != ActionNotTaken }) {
		return // nothing written, nothing done: the console is as the analyst left it
	}
	switch res.Outcome {
	case OutcomeMitigated:
		inv.writeBack("resolved", writtenVerdict(res.Verdict))
	case OutcomePartiallyMitigated, OutcomeMitigationFailed:
		inv.writeBack("unresolved", writtenVerdict(res.Verdict))
	default:
		if inv.analystChangedConsole() {
			return
		}
		inv.writeBack(cmp.Or(inv.readStatus, "unresolved"), "")
	}
}

// analystChangedConsole: the poller reported a console change that is not the echo of
// what this investigation wrote.
func (inv *investigator) analystChangedConsole() bool {
	return inv.seen != nil && inv.seen.Source == ConsoleReported && !feedback.IsEcho(inv.seen.feedback(), inv.wrote)
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

// note posts a step's note; own are its lines that belong to this threat alone, which
// lets an outbreak's notes, alike but for those, go out as one. A refused note is
// logged and does not stop the response.
func (inv *investigator) note(step, text string, own ...string) {
	in := activities.NoteInput{ThreatID: inv.status.ThreatID, Marker: noteMarker(workflow.GetInfo(inv.ctx).WorkflowExecution.ID, step), Text: text,
		FirstPost: inv.firstRun(), Shareable: true, OwnLines: own}
	if err := workflow.ExecuteActivity(inv.s1("post "+step+" note"), a.PostNote, in).Get(inv.ctx, nil); err != nil {
		inv.log.Error("Posting note failed.", "Step", step, "Error", err)
	}
}
