package workflows

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// handoffState is the case hand-off to the SOAR or ticketing system (Settings.Handoff):
// the triage case goes out in its own coroutine, so a receiver that is down never holds
// up the response; the outcome waits for it (each delivery is bounded by RetryFor).
type handoffState struct {
	facts investigation.ThreatFacts
	// inFlight counts deliveries not yet settled.
	inFlight int
	// ticket is the receiver's ticket ID, written to the threat once.
	ticket        string
	ticketWritten bool
	// said is what the outcome note reports about each delivery.
	said []string
}

// handOffTriage sends the triage case without waiting for it.
func (inv *investigator) handOffTriage(f investigation.ThreatFacts, an investigation.Analysis, plan policy.Plan) {
	if inv.settings.Handoff == nil {
		return
	}
	inv.handoff.facts = f
	c := inv.caseDoc(handoff.StageTriage, an, plan, Result{})
	inv.handoff.inFlight++
	workflow.Go(inv.ctx, func(ctx workflow.Context) {
		defer func() { inv.handoff.inFlight-- }()
		inv.deliver(ctx, c)
	})
}

// handOffOutcome sends the outcome case once the triage delivery has settled, so the
// receiver sees the stages in order and the outcome carries the triage's ticket.
func (inv *investigator) handOffOutcome(res *Result) {
	if inv.settings.Handoff == nil || inv.status.Analysis == nil || inv.status.Plan == nil {
		return
	}
	_ = workflow.Await(inv.ctx, func() bool { return inv.handoff.inFlight == 0 })
	inv.deliver(inv.ctx, inv.caseDoc(handoff.StageOutcome, *inv.status.Analysis, *inv.status.Plan, *res))
	res.TicketID = inv.handoff.ticket
	res.Handoff = strings.Join(inv.handoff.said, "; ")
}

// deliver sends one stage of the case; the receiver's ticket is written to the threat.
func (inv *investigator) deliver(ctx workflow.Context, c handoff.Case) {
	in := activities.HandoffInput{Case: c, IdempotencyKey: c.CaseID + "/" + string(c.Stage)}
	var hr activities.HandoffResult
	err := workflow.ExecuteActivity(inv.handoffOptions(ctx), a.HandOffCase, in).Get(ctx, &hr)
	rec := audit.Record{ID: "handoff/" + string(c.Stage), Kind: audit.KindHandoff, AgentID: inv.handoff.facts.AgentID}
	if err != nil {
		said := fmt.Sprintf("%s case not delivered: %s", c.Stage, rootMessage(err))
		inv.handoff.said = append(inv.handoff.said, said)
		rec.Decision, rec.Reason = "not_delivered", said
		inv.auditIn(ctx, rec)
		return
	}
	said := fmt.Sprintf("%s case delivered", c.Stage)
	if hr.TicketID != "" {
		said += " (ticket " + hr.TicketID + ")"
		rec.TicketID = hr.TicketID
	}
	inv.handoff.said = append(inv.handoff.said, said)
	rec.Decision, rec.Reason = "delivered", said
	inv.auditIn(ctx, rec)
	if hr.TicketID != "" && inv.handoff.ticket == "" {
		inv.handoff.ticket = hr.TicketID
		inv.writeTicket(ctx)
	}
}

// writeTicket puts the receiver's ticket ID on the threat (externalTicketId), once.
func (inv *investigator) writeTicket(ctx workflow.Context) {
	if inv.handoff.ticketWritten {
		return
	}
	in := activities.TicketInput{ThreatID: inv.status.ThreatID, TicketID: inv.handoff.ticket}
	actx := workflow.WithActivityOptions(ctx, workflow.GetActivityOptions(inv.s1("write the ticket ID to the threat")))
	if err := workflow.ExecuteActivity(actx, a.SetTicketID, in).Get(ctx, nil); err != nil {
		inv.handoff.said = append(inv.handoff.said, "the ticket ID could not be written to the threat: "+rootMessage(err))
		return
	}
	inv.handoff.ticketWritten = true
}

// handoffOptions retry a delivery with backoff for the configured time; a receiver that
// refuses the case (4xx) is not retried.
func (inv *investigator) handoffOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: inv.settings.Handoff.RetryFor,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:                "hand the case off",
	})
}

// caseDoc is the case as it stands, built from what the investigation recorded.
func (inv *investigator) caseDoc(stage handoff.Stage, an investigation.Analysis, plan policy.Plan, res Result) handoff.Case {
	f := inv.handoff.facts
	wid := workflow.GetInfo(inv.ctx).WorkflowExecution.ID
	c := handoff.Case{
		SchemaVersion: handoff.SchemaVersion, Stage: stage, CaseID: wid,
		Threat: handoff.Threat{ID: f.ThreatID, Name: f.ThreatName, Classification: f.Classification, ConfidenceLevel: f.ConfidenceLevel,
			FilePath: f.FilePath, SHA1: f.SHA1, SHA256: f.SHA256, CommandLine: f.CommandLine, CreatedAt: rfc3339(orStart(inv.ctx, f.CreatedAt))},
		Host:    handoff.Host{AgentID: f.AgentID, ComputerName: f.AgentName, OSType: f.OSType, SiteID: f.SiteID, SiteName: f.SiteName, GroupName: f.GroupName},
		Verdict: string(an.Verdict), Confidence: an.Confidence, Priority: string(an.Priority), Analyzer: an.Analyzer,
		Summary: an.Summary, Evidence: highlights(f, an), MitreTechniques: an.MITRETechniques,
		TicketID: inv.handoff.ticket,
	}
	if w := f.Workload; w != nil && (w.Cluster != "" || w.ContainerImage != "") {
		c.Host.Workload = &handoff.Workload{Cluster: w.Cluster, Namespace: w.Namespace, Pod: w.Pod, ContainerImage: w.ContainerImage}
	}
	for _, st := range plan.Steps {
		c.Plan = append(c.Plan, handoff.PlannedAction{Action: string(st.Action), Disposition: string(st.Disposition), Reason: st.Reason, Approvers: st.Approvers})
	}
	if h := inv.settings.Handoff; h != nil {
		c.Links.WebUI = strings.ReplaceAll(h.InvestigationURL, "{workflowId}", url.PathEscape(wid))
		c.Links.Console = strings.ReplaceAll(h.ThreatURL, "{threatId}", url.PathEscape(f.ThreatID))
	}
	if stage != handoff.StageOutcome {
		return c
	}
	c.Outcome = string(res.Outcome)
	if d := res.Decision; d != nil {
		hd := handoff.Decision{Approved: d.Approved, Approver: d.Approver, At: rfc3339(orStart(inv.ctx, inv.decidedAt)), Comment: d.Reason}
		for _, act := range d.Actions {
			hd.Actions = append(hd.Actions, string(act))
		}
		c.Decisions = append(c.Decisions, hd)
	}
	for _, r := range res.Actions {
		ha := handoff.Action{Action: string(r.Action), Disposition: string(r.Disposition), State: string(r.State), Detail: r.Detail}
		if f := r.Forensics; f != nil && f.TaskID != "" {
			ha.Forensics = &handoff.Forensics{TaskID: f.TaskID, Status: f.Status, FileName: f.FileName, DownloadURL: f.DownloadURL}
		}
		c.Actions = append(c.Actions, ha)
	}
	return c
}

// maxHighlights bounds the case's evidence list: a ticket summary, not the evidence.
const maxHighlights = 10

// highlights are the evidence a reader of the ticket sees first: the attack timeline's
// steps with what they rest on, else SentinelOne's indicators, and the rules that fired.
func highlights(f investigation.ThreatFacts, an investigation.Analysis) []string {
	var out []string
	for _, st := range an.AttackTimeline {
		out = append(out, st.Step+" [evidence: "+st.Evidence+"]")
	}
	if len(out) == 0 {
		out = append(out, f.Indicators...)
	}
	for _, r := range an.Rules {
		out = append(out, "rule: "+r)
	}
	if len(out) > maxHighlights {
		out = append(out[:maxHighlights-1], fmt.Sprintf("… %d more", len(out)-maxHighlights+1))
	}
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// orStart is t, or the investigation's start when t is unknown: the schema requires a time.
func orStart(ctx workflow.Context, t time.Time) time.Time {
	if t.IsZero() {
		return workflow.GetInfo(ctx).WorkflowStartTime
	}
	return t
}
