package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// a is only used for method references; Temporal calls the worker's real instance.
var a *activities.Activities

// InvestigateThreat is the runbook of one SentinelOne threat:
// enrich → analyse → decide → note → act (auto) → approve → act → verify → report.
// It reads like the runbook on purpose; each step is a small method below.
func InvestigateThreat(ctx workflow.Context, in Input) (Result, error) {
	if strings.TrimSpace(in.ThreatID) == "" {
		return Result{}, temporal.NewNonRetryableApplicationError("threat ID is required", activities.ErrTypeBadInput, nil)
	}
	inv := &investigator{
		ctx:    ctx,
		log:    log.With(workflow.GetLogger(ctx), "ThreatID", in.ThreatID),
		status: Status{ThreatID: in.ThreatID, Stage: StageEnriching},
	}
	if err := inv.registerHandlers(); err != nil {
		return Result{}, err
	}
	res, err := inv.run(in.ThreatID)
	// Let an approval update that arrived at the last moment finish cleanly.
	// (and a feedback record of a console change signalled at the last moment).
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && inv.feedbackInFlight == 0 })
	return res, err
}

// The investigation's versions. Each change used to get its own workflow.GetVersion,
// and each one costs a marker and a TemporalChangeVersion upsert in every new history
// (six on the auto path). New investigations record one marker, runbookChangeID, whose
// version implies every change before it; histories without it replay through the
// per-change calls (feature) exactly as before. A later change raises runbookLatest
// and tests inv.runbook against its own version.
const (
	runbookChangeID = "runbook"
	// runbookConsolidated: every per-change version below is on, and the search
	// attributes that change together are upserted together.
	runbookConsolidated workflow.Version = 1
	runbookLatest                        = runbookConsolidated
)

// feature says whether the run has the change changeID: always from
// runbookConsolidated on, otherwise as its own GetVersion says.
func (inv *investigator) feature(changeID string) bool {
	if inv.runbook >= runbookConsolidated {
		return true
	}
	return workflow.GetVersion(inv.ctx, changeID, workflow.DefaultVersion, 1) >= 1
}

type investigator struct {
	ctx workflow.Context
	// runbook is the run's version (runbookChangeID).
	runbook  workflow.Version
	log      log.Logger
	settings activities.Settings
	status   Status
	decision *Decision
	// auditOn: this run writes the audit log (runs started before it existed do not).
	auditOn bool
	// refusals numbers refused approvals, for their audit record IDs.
	refusals int
	// consoleSignals counts the console changes signalled (threat-updated).
	consoleSignals int
	// pendingSteps are the plan steps awaiting approval; escalated widens who may approve.
	pendingSteps []policy.Step
	escalated    bool
	// inputs are what the policy decided on, kept to judge an approver's changes.
	inputs policy.Inputs
	// Analyst feedback (feedback.go): feedbackOn for runs that record it; wrote, the
	// console states this investigation wrote back (told apart from an analyst's);
	// opinion, the last console opinion seen; pendingFeedback, changes seen before the
	// analysis was done; feedbackInFlight, records being written.
	feedbackOn       bool
	wrote            []feedback.Write
	opinion          *feedback.Console
	pendingFeedback  []feedback.Console
	feedbackInFlight int
}

func (inv *investigator) run(threatID string) (Result, error) {
	ctx := inv.ctx
	res := Result{ThreatID: threatID}
	inv.runbook = workflow.GetVersion(ctx, runbookChangeID, workflow.DefaultVersion, runbookLatest)
	inv.auditOn = inv.feature("audit-log")
	inv.feedbackOn = inv.feature("analyst-feedback")
	if inv.runbook >= runbookConsolidated {
		inv.setStage(StageEnriching, ThreatIDKey.ValueSet(threatID))
	} else {
		inv.upsert(ThreatIDKey.ValueSet(threatID))
	}

	if err := workflow.ExecuteActivity(inv.short("read settings"), a.GetSettings).Get(ctx, &inv.settings); err != nil {
		return inv.fail(res, "reading settings", err)
	}
	inv.settings.Policy = upgradePolicy(inv.settings.Policy)

	if inv.runbook < runbookConsolidated {
		inv.setStage(StageEnriching)
	}
	var ev investigation.Evidence
	if err := workflow.ExecuteActivity(inv.s1("fetch threat, agent and timeline"), a.EnrichThreat, threatID).Get(ctx, &ev); err != nil {
		return inv.fail(res, "fetching the threat from SentinelOne", err)
	}
	host := inv.withNextStage(AgentNameKey.ValueSet(ev.Facts.AgentName), SiteIDKey.ValueSet(ev.Facts.SiteID))
	if inv.opinion == nil {
		// The console's opinion when the investigation began: only a change of it is feedback.
		c := consoleOf(ev.Facts, nil).feedback()
		inv.opinion = &c
	}
	// Investigations started before context assembly replay without it. Only a model
	// reads the context; the rules engine does not.
	if inv.feature("context-assembly") && inv.settings.ModelConfigured {
		ev.Context = inv.gatherContext(ev)
	}

	inv.setStage(StageAnalyzing, host...)
	analysis := inv.analyze(ev)
	inv.status.Analysis = &analysis
	res.Verdict, res.Analyzer = analysis.Verdict, analysis.Analyzer
	verdict := inv.withNextStage(VerdictKey.ValueSet(string(analysis.Verdict)), PriorityKey.ValueSet(string(analysis.Priority)))
	inv.flushFeedback()

	inv.setStage(StageDeciding, verdict...)
	inv.inputs = policy.Inputs{Analysis: analysis, Facts: ev.Facts, KillSwitch: inv.settings.KillSwitch}
	plan := policy.Decide(inv.settings.Policy, inv.inputs)
	// Automatic actions need capacity from the control workflow, which checks the
	// fleet-wide kill switch and blast-radius caps; what it refuses waits for a human.
	if inv.feature("control-reserve") {
		inv.reserveAuto(&plan)
	}
	inv.status.Plan = &plan
	res.PolicyVersion = plan.PolicyVersion
	inv.auditDecision(ev, analysis, plan)
	inv.note("triage", triageNote(threatID, ev, analysis, plan, inv.settings))

	inv.status.Console = consoleOf(ev.Facts, inv.status.Console)
	// The console shows the threat is being worked on; a recommend-only plan leaves the
	// analyst's fields untouched.
	// Investigations started before write-back existed replay without it.
	acting := inv.feature("console-write-back") && len(plan.Actions(policy.Auto))+len(plan.Actions(policy.Approve)) > 0
	markInProgress := acting
	if inv.feature("in-progress-when-waiting") {
		// Automatic actions settle in seconds, so the console goes straight to resolved;
		// in_progress tells analysts that a decision is pending.
		markInProgress = acting && len(plan.Actions(policy.Approve)) > 0
	}
	if markInProgress && !inv.closedByAnalyst() {
		inv.writeBack(threatID, "in_progress", "")
	}
	// Contain first: low-impact automatic actions do not wait for the approval of the rest.
	if auto := plan.Actions(policy.Auto); len(auto) > 0 {
		inv.actUnlessClosed(&res, ev.Facts, auto, policy.Auto)
		inv.auditActions("action/auto", inv.status.Actions)
	}
	if pending := plan.Actions(policy.Approve); len(pending) > 0 {
		switch d := inv.awaitApproval(plan, pending); {
		case inv.closedByAnalyst():
			res.ClosedInConsole = true
			inv.record(pending, policy.Approve, ActionNotTaken, "the threat was closed in the SentinelOne console ("+inv.status.Console.summary()+")")
		case d == nil:
			res.ApprovalTimedOut = true
			inv.record(pending, policy.Approve, ActionNotTaken, "no decision before the approval deadline: no action taken")
		case !d.Approved:
			res.Decision = d
			if inv.feedbackOn {
				// A rejected recommendation is the analyst disagreeing with the copilot.
				inv.recordFeedback(ctx, feedback.ApprovalRecord(inv.copilot(), d.Approver, d.Reason, pending))
			}
			inv.record(pending, policy.Approve, ActionNotTaken, fmt.Sprintf("rejected by %s: %s", d.Approver, d.Reason))
		default:
			res.Decision = d
			chosen, left := chosenActions(*d, pending)
			inv.record(left, policy.Approve, ActionNotTaken, "left out by "+d.Approver+" (approved with changes)")
			if len(chosen) > 0 {
				inv.countApproved(chosen)
				done := len(inv.status.Actions)
				inv.actUnlessClosed(&res, ev.Facts, chosen, policy.Approve)
				inv.auditActions("action/approved", inv.status.Actions[done:])
			}
		}
	}

	res.Actions = inv.status.Actions
	res.Outcome = outcomeOf(res)
	if acting && !inv.closedByAnalyst() {
		inv.writeBackOutcome(threatID, res)
	}
	inv.setStage(StageReporting)
	inv.note("outcome", outcomeNote(res))
	inv.status.Outcome = res.Outcome
	inv.finish(res.Outcome)
	return res, nil
}

// finish records the outcome and the final stage.
func (inv *investigator) finish(o Outcome) {
	inv.setStage(StageDone, inv.withNextStage(OutcomeKey.ValueSet(string(o)))...)
}

// gatherContext reads the threat's surroundings for the model. Context only improves
// an analysis, so a SentinelOne that keeps failing costs it, not the investigation:
// after a short retry budget the analysis goes ahead and the context says why it is
// missing.
func (inv *investigator) gatherContext(ev investigation.Evidence) *investigation.Context {
	ctx := inv.s1("gather context: process tree, prevalence, host history")
	opts := workflow.GetActivityOptions(ctx)
	opts.ScheduleToCloseTimeout = 2 * time.Minute
	opts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 20 * time.Second, MaximumAttempts: 5}
	var c investigation.Context
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.GatherContext, ev).Get(inv.ctx, &c); err != nil {
		inv.log.Warn("Context could not be gathered; analysing without it.", "Error", err)
		return &investigation.Context{Unavailable: []string{"context: " + rootMessage(err)}}
	}
	return &c
}

// analyze asks the configured analyzer; if it fails or answers outside the schema, the
// rules engine stands in and the analysis says so. An investigation never stalls on a model.
func (inv *investigator) analyze(ev investigation.Evidence) investigation.Analysis {
	ctx := inv.ctx
	opts := workflow.ActivityOptions{
		StartToCloseTimeout:    3 * time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 3},
		Summary:                "analyse threat",
	}
	var analysis investigation.Analysis
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.AnalyzeThreat, ev).Get(ctx, &analysis)
	if err == nil {
		return analysis
	}
	reason := "model failed: " + rootMessage(err)
	inv.log.Warn("Analyzer failed; falling back to rules.", "Error", err)
	if ferr := workflow.ExecuteActivity(inv.short("rules fallback"), a.AnalyzeWithRules, ev, reason).Get(ctx, &analysis); ferr != nil {
		// The rules engine is local and deterministic; if even it fails, a human must look.
		return investigation.Analysis{
			Verdict: investigation.VerdictUndetermined, Priority: investigation.PriorityHigh,
			Summary:  "No analyzer could produce a verdict; a human must triage this threat.",
			Analyzer: "none", FallbackReason: reason + "; rules failed: " + rootMessage(ferr),
		}
	}
	return analysis
}

// awaitApproval waits for the first valid decision or the deadline; nil means timed out.
// On the way it reminds, then escalates to the policy's second group of approvers.
func (inv *investigator) awaitApproval(plan policy.Plan, pending []investigation.Action) *Decision {
	ctx := inv.ctx
	timeout := inv.settings.ApprovalTimeout
	start := workflow.Now(ctx)
	inv.pendingSteps = nil
	for _, st := range plan.Steps {
		if slices.Contains(pending, st.Action) {
			inv.pendingSteps = append(inv.pendingSteps, st)
		}
	}
	inv.status.AwaitingApproval = pending
	inv.status.ApprovalDeadline = start.Add(timeout)
	inv.setStage(StageAwaitingApproval)
	var asks []audit.Record
	for _, st := range inv.pendingSteps {
		asks = append(asks, audit.Record{ID: "approval_requested/" + string(st.Action), Kind: audit.KindApprovalRequested, Action: string(st.Action),
			Reason: fmt.Sprintf("roles %v; deadline %s", st.Approvers, inv.status.ApprovalDeadline.UTC().Format(time.RFC3339))})
	}
	inv.audit(asks...)
	decided := func() bool { return inv.decision != nil || inv.closedByAnalyst() }

	if inv.feature("approval-reminders") && inv.settings.Policy != nil {
		ap := inv.settings.Policy.Approvals
		for _, stage := range []struct {
			after time.Duration
			kind  string
		}{{time.Duration(ap.ReminderAfter), "reminder"}, {time.Duration(ap.EscalateAfter), "escalation"}} {
			if stage.after <= 0 || stage.after >= timeout || decided() {
				continue
			}
			ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
				Timeout: start.Add(stage.after).Sub(workflow.Now(ctx)), TimerOptions: workflow.TimerOptions{Summary: "approval " + stage.kind},
			}, decided)
			if err != nil || ok {
				break
			}
			inv.nudge(stage.kind)
		}
	}
	ok := decided()
	if !ok {
		var err error
		ok, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      inv.status.ApprovalDeadline.Sub(workflow.Now(ctx)),
			TimerOptions: workflow.TimerOptions{Summary: "approval deadline"},
		}, decided)
		ok = ok && err == nil
	}
	inv.status.AwaitingApproval = nil
	if !ok || inv.decision == nil {
		if !inv.closedByAnalyst() {
			inv.log.Info("Approval deadline passed; taking no action.", "Actions", pending)
		}
		return nil
	}
	inv.status.Decision = inv.decision
	inv.audit(decisionRecord(*inv.decision))
	return inv.decision
}

// chosenActions splits an approval into the actions to carry out, in execution order, and
// the pending ones the approver left out.
func chosenActions(d Decision, pending []investigation.Action) (chosen, left []investigation.Action) {
	if len(d.Actions) == 0 {
		return pending, nil
	}
	for _, a := range investigation.Actions {
		if slices.Contains(d.Actions, a) {
			chosen = append(chosen, a)
		} else if slices.Contains(pending, a) {
			left = append(left, a)
		}
	}
	return chosen, left
}

// nudge reminds the approvers, or escalates to the policy's escalation roles, with a
// note on the threat (what the console and its integrations see) and an audit record.
func (inv *investigator) nudge(kind string) {
	pol := inv.settings.Policy
	who := approverList(pol, inv.pendingSteps, nil)
	if kind == "escalation" {
		inv.escalated = true
		who = approverList(pol, nil, pol.Approvals.EscalateTo)
	}
	sig, st := ApproveCommands(inv.status.ThreatID)
	text := fmt.Sprintf("s1copilot %s: %v still wait(s) for approval (deadline %s). May approve: %s.\n  %s\n  %s\n",
		kind, inv.status.AwaitingApproval, inv.status.ApprovalDeadline.UTC().Format(time.RFC3339), who, sig, st)
	inv.note(kind, text)
	inv.audit(audit.Record{ID: "approval_" + kind, Kind: audit.KindApprovalRequested, Decision: kind, Reason: "may approve: " + who})
}

// approverList names the people who may approve: the roles of the steps, or the given roles.
func approverList(p *policy.Policy, steps []policy.Step, roles []string) string {
	if p == nil {
		return "anyone"
	}
	for _, st := range steps {
		roles = append(roles, st.Approvers...)
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	var out []string
	for _, r := range roles {
		out = append(out, fmt.Sprintf("%s %v", r, p.Roles[r]))
	}
	if len(out) == 0 {
		return "anyone"
	}
	return strings.Join(out, "; ")
}

// act POSTs each action in order, then verifies them all in parallel: a verify retry
// never re-POSTs, and one slow action does not delay the others' verdicts.
func (inv *investigator) act(f investigation.ThreatFacts, actions []investigation.Action, d policy.Disposition) {
	ctx := inv.ctx
	inv.setStage(StageMitigating)
	type pendingVerify struct {
		idx int
		in  activities.VerifyInput
		fut workflow.Future
	}
	var verifies []pendingVerify
	for _, act := range actions {
		in := activities.MitigateInput{ThreatID: f.ThreatID, AgentID: f.AgentID, Action: act,
			// Acting right after enrichment on a threat that showed no action, with no
			// console change since, nobody can have requested it yet.
			FirstRequest: d == policy.Auto && inv.firstRun() && inv.consoleSignals == 0 && len(f.Mitigations) == 0}
		var mr activities.MitigateResult
		err := workflow.ExecuteActivity(inv.s1("request "+string(act)), a.Mitigate, in).Get(ctx, &mr)
		r := ActionResult{Action: act, Disposition: d}
		switch {
		case err != nil:
			r.State, r.Detail = ActionRefused, "SentinelOne refused the request: "+rootMessage(err)
		case mr.Refused != "":
			r.State, r.Detail = ActionRefused, mr.Refused
		}
		inv.status.Actions = append(inv.status.Actions, r)
		if r.State == "" {
			verifies = append(verifies, pendingVerify{idx: len(inv.status.Actions) - 1, in: in, fut: workflow.ExecuteActivity(inv.verifyOptions(act), a.VerifyMitigation, in)})
		}
	}
	if len(verifies) == 0 {
		return
	}
	inv.setStage(StageVerifying)
	for _, v := range verifies {
		var vr activities.VerifyResult
		err := v.fut.Get(ctx, &vr)
		r := &inv.status.Actions[v.idx]
		if neverSettled(err) && inv.feature("verify-last-look") {
			// The deadline can pass while an attempt is held by a worker that died: one
			// last read tells "not settled" from "not checked in time".
			if look, ok := inv.lastLook(v.in); ok {
				vr, err = look, nil
				vr.Detail = strings.TrimSpace(vr.Detail + " (verified after the deadline)")
			}
		}
		switch {
		case neverSettled(err):
			r.State = ActionTimedOut
			r.Detail = fmt.Sprintf("accepted by SentinelOne but not settled after %s", inv.settings.MitigationTimeout)
			if r.Action == investigation.ActionRollback {
				r.Detail += " (rollback needs VSS snapshots on a Windows agent; check the agent's snapshot policy)"
			}
		case err != nil:
			r.State, r.Detail = ActionFailed, "could not verify: "+rootMessage(err)
		default:
			r.State, r.Detail = ActionState(vr.State), vr.Detail
		}
	}
	inv.updateDetails()
}

// lastLook reads an action's state once more after its verification deadline; ok is
// false when it is still not settled or cannot be read.
func (inv *investigator) lastLook(in activities.VerifyInput) (activities.VerifyResult, bool) {
	ctx := workflow.WithActivityOptions(inv.ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		// One read, and one more if a worker dies holding it; "not settled" is final.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 2, NonRetryableErrorTypes: []string{activities.ErrTypeNotSettled}},
		TaskQueue:   inv.settings.S1TaskQueue,
		Summary:     "last look: " + string(in.Action),
	})
	var vr activities.VerifyResult
	if err := workflow.ExecuteActivity(ctx, a.VerifyMitigation, in).Get(inv.ctx, &vr); err != nil {
		return vr, false
	}
	return vr, true
}

// actUnlessClosed acts, unless an analyst closed the threat in the console meanwhile:
// a human's decision in SentinelOne outranks the copilot's plan.
func (inv *investigator) actUnlessClosed(res *Result, f investigation.ThreatFacts, actions []investigation.Action, d policy.Disposition) {
	if inv.closedByAnalyst() {
		res.ClosedInConsole = true
		inv.record(actions, d, ActionNotTaken, "the threat was closed in the SentinelOne console ("+inv.status.Console.summary()+")")
		return
	}
	inv.act(f, actions, d)
}

// firstRun: this run is the investigation's first, not a reset, retried or continued
// one, so nothing it is about to send can have been sent by an earlier run. (Unknown
// counts as not first.)
func (inv *investigator) firstRun() bool {
	info := workflow.GetInfo(inv.ctx)
	return info.FirstRunID != "" && info.WorkflowExecution.RunID == info.FirstRunID
}

func (inv *investigator) closedByAnalyst() bool {
	return inv.status.Console != nil && inv.status.Console.ClosedByAnalyst()
}

// consoleOf is the console state at enrichment, unless a newer one was signalled already.
func consoleOf(f investigation.ThreatFacts, signalled *ConsoleState) *ConsoleState {
	if signalled != nil {
		return signalled
	}
	return &ConsoleState{IncidentStatus: f.IncidentStatus, AnalystVerdict: f.AnalystVerdict, MitigationStatus: f.MitigationStatus}
}

func (inv *investigator) record(actions []investigation.Action, d policy.Disposition, st ActionState, detail string) {
	for _, act := range actions {
		inv.status.Actions = append(inv.status.Actions, ActionResult{Action: act, Disposition: d, State: st, Detail: detail})
	}
}

// upgradePolicy reads settings recorded before policy files existed: they carried only
// the mode and the confidence threshold of the built-in policy, which Default rebuilds.
func upgradePolicy(p *policy.Policy) *policy.Policy {
	if p != nil && p.Version == "" && p.Mode.Valid() {
		return policy.Default(p.Mode, p.MinConfidence)
	}
	return p
}

// reserveAuto asks the control workflow for the plan's automatic actions. Fail safe: if
// it cannot be reached, nothing runs automatically.
func (inv *investigator) reserveAuto(plan *policy.Plan) {
	auto := plan.Actions(policy.Auto)
	if len(auto) == 0 {
		return
	}
	var rr control.ReserveResult
	in := activities.ReserveInput{InvestigationID: workflow.GetInfo(inv.ctx).WorkflowExecution.ID, Step: "auto", Actions: auto, Auto: true, Caps: inv.settings.Policy.Caps}
	if err := workflow.ExecuteActivity(inv.short("reserve automatic actions"), a.ReserveActions, in).Get(inv.ctx, &rr); err != nil {
		inv.log.Error("Reserving automatic actions failed; they wait for approval.", "Error", err)
		convertAuto(plan, auto, func(investigation.Action) string {
			return "the control workflow could not be reached: " + rootMessage(err)
		})
		return
	}
	convertAuto(plan, auto, func(a investigation.Action) string { return rr.Denied[a] })
}

// countApproved counts approved actions in the control workflow (isolations count
// toward the caps whoever decided them); a failure only loses a count.
func (inv *investigator) countApproved(actions []investigation.Action) {
	if !inv.feature("control-count-approved") {
		return
	}
	in := activities.ReserveInput{InvestigationID: workflow.GetInfo(inv.ctx).WorkflowExecution.ID, Step: "approved", Actions: actions, Caps: inv.settings.Policy.Caps}
	if err := workflow.ExecuteActivity(inv.short("count approved actions"), a.ReserveActions, in).Get(inv.ctx, nil); err != nil {
		inv.log.Warn("Counting approved actions failed.", "Error", err)
	}
}

// convertAuto turns automatic steps into approvals where why returns a reason.
func convertAuto(plan *policy.Plan, actions []investigation.Action, why func(investigation.Action) string) {
	for i, st := range plan.Steps {
		if st.Disposition != policy.Auto || !slices.Contains(actions, st.Action) {
			continue
		}
		if reason := why(st.Action); reason != "" {
			plan.Steps[i].Disposition = policy.Approve
			plan.Steps[i].Reason = reason
		}
	}
}

// writeBackOutcome records the result in the console: resolved with our verdict when every
// action was verified, otherwise still in progress for an analyst to finish.
func (inv *investigator) writeBackOutcome(threatID string, res Result) {
	if res.Outcome == OutcomeMitigated {
		verdict := ""
		if res.Verdict == investigation.VerdictTruePositive || res.Verdict == investigation.VerdictSuspicious {
			verdict = string(res.Verdict)
		}
		inv.writeBack(threatID, "resolved", verdict)
	}
}

// writeBack sets the console's incident status; a refusal is logged and does not stop
// the response.
func (inv *investigator) writeBack(threatID, status, verdict string) {
	in := activities.WriteBackInput{ThreatID: threatID, IncidentStatus: status, AnalystVerdict: verdict}
	// Noted before the call: the poller may report the change before the activity returns.
	inv.wrote = append(inv.wrote, feedback.Write{IncidentStatus: status, AnalystVerdict: verdict})
	outcome := "done"
	if err := workflow.ExecuteActivity(inv.s1("set incident status "+status), a.WriteBack, in).Get(inv.ctx, nil); err != nil {
		inv.log.Error("Write-back failed.", "IncidentStatus", status, "Error", err)
		outcome = "failed: " + rootMessage(err)
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

// fail ends an investigation that cannot go on: the error outcome is searchable and the
// workflow fails, so it shows as failed in the Web UI for a human to pick up.
func (inv *investigator) fail(res Result, what string, err error) (Result, error) {
	inv.status.Outcome = OutcomeError
	inv.finish(OutcomeError)
	res.Outcome = OutcomeError
	return res, temporal.NewNonRetryableApplicationError(what+" failed: "+rootMessage(err), "InvestigationFailed", err)
}

// short is the option set for quick calls to SentinelOne: one attempt is one HTTP call;
// transient failures retry for up to ten minutes, permanent ones fail at once.
func (inv *investigator) short(summary string) workflow.Context {
	return workflow.WithActivityOptions(inv.ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:                summary,
	})
}

// s1 is short for activities that call SentinelOne: they run on the S1 task queue,
// whose server-side rate limit holds across every worker.
func (inv *investigator) s1(summary string) workflow.Context {
	ctx := inv.short(summary)
	if q := inv.settings.S1TaskQueue; q != "" {
		opts := workflow.GetActivityOptions(ctx)
		opts.TaskQueue = q
		ctx = workflow.WithActivityOptions(ctx, opts)
	}
	return ctx
}

// verifyOptions turn activity retries into the polling loop: each retry is one status
// read, not recorded in history, until the action settles or the budget runs out.
func (inv *investigator) verifyOptions(act investigation.Action) workflow.Context {
	return workflow.WithActivityOptions(inv.ctx, workflow.ActivityOptions{
		// One status read: an attempt held by a worker that died should cost little of
		// the deadline (a last look follows the deadline anyway).
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: inv.settings.MitigationTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    inv.settings.MitigationPoll,
			BackoffCoefficient: 1.5,
			MaximumInterval:    4 * inv.settings.MitigationPoll,
		},
		TaskQueue: inv.settings.S1TaskQueue,
		Summary:   "verify " + string(act),
	})
}

// withNextStage returns search attributes for the next setStage to upsert with the
// stage; runs before runbookConsolidated upsert them at once, as they always did.
func (inv *investigator) withNextStage(updates ...temporal.SearchAttributeUpdate) []temporal.SearchAttributeUpdate {
	if inv.runbook >= runbookConsolidated {
		return updates
	}
	inv.upsert(updates...)
	return nil
}

// setStage records the stage, with any other search attributes that change at the
// same moment in the same upsert.
func (inv *investigator) setStage(s Stage, also ...temporal.SearchAttributeUpdate) {
	inv.status.Stage = s
	inv.upsert(append(also, StageKey.ValueSet(string(s)))...)
	inv.updateDetails()
}

func (inv *investigator) upsert(updates ...temporal.SearchAttributeUpdate) {
	if err := workflow.UpsertTypedSearchAttributes(inv.ctx, updates...); err != nil {
		inv.log.Warn("Upserting search attributes failed.", "Error", err)
	}
}

func (inv *investigator) updateDetails() {
	workflow.SetCurrentDetails(inv.ctx, currentDetails(inv.status))
}

// outcomeOf summarises the verified states of the actions carried out.
func outcomeOf(r Result) Outcome {
	var done, ok int
	for _, act := range r.Actions {
		if act.State == ActionNotTaken {
			continue
		}
		done++
		if act.State == ActionSucceeded {
			ok++
		}
	}
	switch {
	case done == 0 && r.ClosedInConsole:
		return OutcomeResolvedInConsole
	case done == 0 && r.ApprovalTimedOut:
		return OutcomeApprovalTimedOut
	case done == 0 && r.Decision != nil && !r.Decision.Approved:
		return OutcomeRejected
	case done == 0:
		return OutcomeRecommended
	case ok == done:
		return OutcomeMitigated
	case ok == 0:
		return OutcomeMitigationFailed
	}
	return OutcomePartiallyMitigated
}

// neverSettled reports whether a verify activity gave up because the action stayed
// pending: the budget ran out (timeout) or the last attempt still said "not settled".
func neverSettled(err error) bool {
	var te *temporal.TimeoutError
	var app *temporal.ApplicationError
	return errors.As(err, &te) || (errors.As(err, &app) && app.Type() == activities.ErrTypeNotSettled)
}

// rootMessage is the innermost error message, without Temporal's wrapping noise.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return "timed out (" + strings.ToLower(strings.TrimPrefix(te.TimeoutType().String(), "TIMEOUT_TYPE_")) + ")"
	}
	return err.Error()
}
