package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
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
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return res, err
}

type investigator struct {
	ctx      workflow.Context
	log      log.Logger
	settings activities.Settings
	status   Status
	decision *Decision
}

func (inv *investigator) run(threatID string) (Result, error) {
	ctx := inv.ctx
	res := Result{ThreatID: threatID}
	inv.upsert(ThreatIDKey.ValueSet(threatID))

	if err := workflow.ExecuteActivity(inv.short("read settings"), a.GetSettings).Get(ctx, &inv.settings); err != nil {
		return inv.fail(res, "reading settings", err)
	}

	inv.setStage(StageEnriching)
	var ev investigation.Evidence
	if err := workflow.ExecuteActivity(inv.s1("fetch threat, agent and timeline"), a.EnrichThreat, threatID).Get(ctx, &ev); err != nil {
		return inv.fail(res, "fetching the threat from SentinelOne", err)
	}
	inv.upsert(AgentNameKey.ValueSet(ev.Facts.AgentName), SiteIDKey.ValueSet(ev.Facts.SiteID))

	inv.setStage(StageAnalyzing)
	analysis := inv.analyze(ev)
	inv.status.Analysis = &analysis
	res.Verdict, res.Analyzer = analysis.Verdict, analysis.Analyzer
	inv.upsert(VerdictKey.ValueSet(string(analysis.Verdict)), PriorityKey.ValueSet(string(analysis.Priority)))

	inv.setStage(StageDeciding)
	plan := policy.Decide(inv.settings.Policy, analysis, ev.Facts)
	inv.status.Plan = &plan
	res.PolicyVersion = plan.PolicyVersion
	inv.note("triage", triageNote(threatID, analysis, plan, inv.settings))

	inv.status.Console = consoleOf(ev.Facts, inv.status.Console)
	// The console shows the threat is being worked on; a recommend-only plan leaves the
	// analyst's fields untouched.
	// Investigations started before write-back existed replay without it.
	writeBackVersion := workflow.GetVersion(ctx, "console-write-back", workflow.DefaultVersion, 1)
	acting := writeBackVersion >= 1 && len(plan.Actions(policy.Auto))+len(plan.Actions(policy.Approve)) > 0
	if acting && !inv.closedByAnalyst() {
		inv.writeBack(threatID, "in_progress", "")
	}
	// Contain first: low-impact automatic actions do not wait for the approval of the rest.
	if auto := plan.Actions(policy.Auto); len(auto) > 0 {
		inv.actUnlessClosed(&res, ev.Facts, auto, policy.Auto)
	}
	if pending := plan.Actions(policy.Approve); len(pending) > 0 {
		switch d := inv.awaitApproval(pending); {
		case inv.closedByAnalyst():
			res.ClosedInConsole = true
			inv.record(pending, policy.Approve, ActionNotTaken, "the threat was closed in the SentinelOne console ("+inv.status.Console.summary()+")")
		case d == nil:
			res.ApprovalTimedOut = true
			inv.record(pending, policy.Approve, ActionNotTaken, "no decision before the approval deadline: no action taken")
		case !d.Approved:
			res.Decision = d
			inv.record(pending, policy.Approve, ActionNotTaken, fmt.Sprintf("rejected by %s: %s", d.Approver, d.Reason))
		default:
			res.Decision = d
			inv.actUnlessClosed(&res, ev.Facts, pending, policy.Approve)
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
	inv.upsert(OutcomeKey.ValueSet(string(res.Outcome)))
	inv.setStage(StageDone)
	return res, nil
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
func (inv *investigator) awaitApproval(pending []investigation.Action) *Decision {
	ctx := inv.ctx
	timeout := inv.settings.ApprovalTimeout
	inv.status.AwaitingApproval = pending
	inv.status.ApprovalDeadline = workflow.Now(ctx).Add(timeout)
	inv.setStage(StageAwaitingApproval)
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      timeout,
		TimerOptions: workflow.TimerOptions{Summary: "approval deadline"},
	}, func() bool { return inv.decision != nil || inv.closedByAnalyst() })
	inv.status.AwaitingApproval = nil
	if err != nil || !ok {
		inv.log.Info("Approval deadline passed; taking no action.", "Actions", pending)
		return nil
	}
	inv.status.Decision = inv.decision
	return inv.decision
}

// act POSTs each action in order, then verifies them all in parallel: a verify retry
// never re-POSTs, and one slow action does not delay the others' verdicts.
func (inv *investigator) act(f investigation.ThreatFacts, actions []investigation.Action, d policy.Disposition) {
	ctx := inv.ctx
	inv.setStage(StageMitigating)
	type pendingVerify struct {
		idx int
		fut workflow.Future
	}
	var verifies []pendingVerify
	for _, act := range actions {
		in := activities.MitigateInput{ThreatID: f.ThreatID, AgentID: f.AgentID, Action: act}
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
			verifies = append(verifies, pendingVerify{idx: len(inv.status.Actions) - 1, fut: workflow.ExecuteActivity(inv.verifyOptions(act), a.VerifyMitigation, in)})
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
	if err := workflow.ExecuteActivity(inv.s1("set incident status "+status), a.WriteBack, in).Get(inv.ctx, nil); err != nil {
		inv.log.Error("Write-back failed.", "IncidentStatus", status, "Error", err)
	}
}

// note posts a note; a refused note is logged and does not stop the response.
func (inv *investigator) note(step, text string) {
	in := activities.NoteInput{ThreatID: inv.status.ThreatID, Marker: noteMarker(workflow.GetInfo(inv.ctx).WorkflowExecution.ID, step), Text: text}
	if err := workflow.ExecuteActivity(inv.s1("post "+step+" note"), a.PostNote, in).Get(inv.ctx, nil); err != nil {
		inv.log.Error("Posting note failed.", "Step", step, "Error", err)
	}
}

// fail ends an investigation that cannot go on: the error outcome is searchable and the
// workflow fails, so it shows as failed in the Web UI for a human to pick up.
func (inv *investigator) fail(res Result, what string, err error) (Result, error) {
	inv.status.Outcome = OutcomeError
	inv.upsert(OutcomeKey.ValueSet(string(OutcomeError)))
	inv.setStage(StageDone)
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
		StartToCloseTimeout:    30 * time.Second,
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

func (inv *investigator) setStage(s Stage) {
	inv.status.Stage = s
	inv.upsert(StageKey.ValueSet(string(s)))
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
