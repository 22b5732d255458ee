package workflows

import (
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// a is only used for method references; Temporal calls the worker's real instance.
var a *activities.Activities

// InvestigateThreat is the investigation of one SentinelOne threat. Its steps are in
// run, in the order of the SOC runbook; every change to them reaches investigations
// that are already waiting, so read "Changing the workflow safely" in the README first.
func InvestigateThreat(ctx workflow.Context, in Input) (Result, error) {
	if strings.TrimSpace(in.ThreatID) == "" {
		return Result{}, temporal.NewNonRetryableApplicationError("threat ID is required", activities.ErrTypeBadInput, nil)
	}
	inv := &investigator{
		ctx:      ctx,
		log:      log.With(workflow.GetLogger(ctx), "ThreatID", in.ThreatID),
		status:   Status{ThreatID: in.ThreatID, Stage: StageEnriching},
		result:   Result{ThreatID: in.ThreatID},
		snapshot: in.Snapshot,
	}
	if err := inv.registerHandlers(); err != nil {
		return Result{}, err
	}
	res, err := inv.run()
	inv.letHandlersFinish()
	return res, err
}

// run is the runbook: enrich → analyse → decide → note → announce (Slack) → hand off
// (SOAR) → contain → approve → act → verify → report.
func (inv *investigator) run() (Result, error) {
	if err := inv.loadSettings(); err != nil {
		return inv.fail("reading settings", err)
	}
	ev, err := inv.enrich()
	if err != nil {
		return inv.fail("fetching the threat from SentinelOne", err)
	}
	analysis := inv.analyse(ev)
	plan := inv.decide(ev, analysis)
	inv.noteTriage(ev, analysis, plan)
	inv.announce(ev, analysis, plan)
	inv.handOffTriage(ev.Facts, analysis, plan)
	inv.verify(inv.contain(ev.Facts, plan))
	if approved := inv.approve(plan); len(approved) > 0 {
		inv.verify(inv.act(ev.Facts, approved, policy.Approve))
	}
	return inv.report(), nil
}

// investigator is the state of one investigation, shared by the runbook's steps and
// the message handlers (handlers.go).
type investigator struct {
	ctx      workflow.Context
	log      log.Logger
	settings activities.Settings
	status   Status
	result   Result
	// snapshot is the threat as the poller listed it, for the first enrichment.
	snapshot *investigation.ThreatFacts
	// seen is the console's state as the investigation last read it or the poller
	// reported it: an analyst's, or the echo of s1copilot's own write-back.
	seen *ConsoleState
	// readStatus is the incident status read at enrichment, restored when the
	// investigation marked the threat in progress and then did nothing.
	readStatus string
	// nextUpsert holds search attributes to upsert with the next stage (one upsert, not two).
	nextUpsert []temporal.SearchAttributeUpdate
	// decision is the first valid human decision; pendingSteps are the plan steps it
	// covers, and escalated widens who may make it.
	decision     *Decision
	pendingSteps []policy.Step
	escalated    bool
	// inputs are what the policy decided on, kept to judge an approver's changes.
	inputs policy.Inputs
	// refusals numbers refused approvals, for their audit record IDs.
	refusals int
	// consoleSignals counts the console changes the poller reported.
	consoleSignals int
	// Analyst feedback (feedback.go): wrote, the console states this investigation wrote
	// back (told apart from an analyst's); opinion, the last console opinion seen;
	// pendingFeedback, changes seen before the analysis was done; feedbackInFlight,
	// records being written.
	wrote            []feedback.Write
	opinion          *feedback.Console
	pendingFeedback  []feedback.Console
	feedbackInFlight int
	// slack is the investigation's Slack message (slack.go); nil when it has none.
	// decidedAt is when the decision was accepted, for the message.
	slack     *slackMessage
	decidedAt time.Time
	// handoff is the case hand-off to a SOAR or ticketing system (handoff.go).
	handoff handoffState
}

// loadSettings reads the policy and timings this investigation keeps to the end, so
// that history records exactly what applied.
func (inv *investigator) loadSettings() error {
	inv.setStage(StageEnriching, ThreatIDKey.ValueSet(inv.status.ThreatID))
	return workflow.ExecuteActivity(inv.short("read settings"), a.GetSettings).Get(inv.ctx, &inv.settings)
}

// enrich reads the threat, its agent and its timeline, and, for a model, the context
// around it.
func (inv *investigator) enrich() (investigation.Evidence, error) {
	var ev investigation.Evidence
	if err := inv.fetchEvidence().Get(inv.ctx, &ev); err != nil {
		return ev, err
	}
	if inv.settings.EncryptedPayloads {
		inv.upsertWithNextStage(SiteIDKey.ValueSet(ev.Facts.SiteID)) // a host name is not for clear text
	} else {
		inv.upsertWithNextStage(AgentNameKey.ValueSet(ev.Facts.AgentName), SiteIDKey.ValueSet(ev.Facts.SiteID))
	}
	inv.sawConsoleAtEnrichment(ev.Facts)
	// Only a model reads the context; the rules engine does not.
	if inv.settings.ModelConfigured {
		ev.Context = inv.gatherContext(ev)
	}
	return ev, nil
}

// fetchEvidence reads the threat, its agent and its timeline; the first run of an
// investigation the poller started takes the threat from the poller's snapshot, while a
// reset (not the first run) reads it again. (Which run it is only changes the
// activity's input: a reset replays the same commands.)
func (inv *investigator) fetchEvidence() workflow.Future {
	ctx := inv.s1("fetch threat, agent and timeline")
	if inv.snapshot != nil && workflow.GetVersion(inv.ctx, "enrich-from-snapshot", workflow.DefaultVersion, 1) == 1 {
		in := activities.EnrichInput{ThreatID: inv.status.ThreatID, Snapshot: inv.snapshot, ReadAgain: !inv.firstRun()}
		return workflow.ExecuteActivity(ctx, a.EnrichFromSnapshot, in)
	}
	return workflow.ExecuteActivity(ctx, a.EnrichThreat, inv.status.ThreatID)
}

// analyse asks the model, or the rules engine when there is none or it fails.
func (inv *investigator) analyse(ev investigation.Evidence) investigation.Analysis {
	inv.setStage(StageAnalyzing)
	analysis := inv.analyzeWithFallback(ev)
	inv.status.Analysis = &analysis
	inv.result.Verdict, inv.result.Analyzer = analysis.Verdict, analysis.Analyzer
	inv.result.Injection = injectionLine(analysis)
	inv.upsertWithNextStage(VerdictKey.ValueSet(string(analysis.Verdict)), PriorityKey.ValueSet(string(analysis.Priority)))
	inv.flushFeedback()
	return analysis
}

// decide lets the policy turn the analysis into a plan: what runs at once, what waits
// for whom, what is only recommended. The model recommends; only the policy decides.
func (inv *investigator) decide(ev investigation.Evidence, analysis investigation.Analysis) policy.Plan {
	inv.setStage(StageDeciding)
	inv.inputs = policy.Inputs{Analysis: analysis, Facts: ev.Facts, KillSwitch: inv.settings.KillSwitch}
	plan := policy.Decide(inv.settings.Policy, inv.inputs)
	if d := analysis.Disagreement; d != nil {
		inv.putToAHuman(&plan, d)
	}
	// The fleet's kill switch and blast-radius caps live in the control workflow;
	// what it refuses waits for a human.
	inv.reserveAuto(&plan)
	inv.status.Plan = &plan
	inv.result.PolicyVersion = plan.PolicyVersion
	inv.auditDecision(ev, analysis, plan)
	return plan
}

// noteTriage writes the verdict and the plan on the threat and, when a decision waits
// for a human, marks the threat in progress so analysts see it is pending. Automatic
// actions settle in seconds, and a recommend-only plan leaves the analyst's fields
// untouched.
func (inv *investigator) noteTriage(ev investigation.Evidence, analysis investigation.Analysis, plan policy.Plan) {
	text, own := triageNote(inv.status.ThreatID, ev, analysis, plan, inv.settings)
	inv.note("triage", text, own...)
	if inv.waitsForAHuman(plan) && !inv.closedByAnalyst() {
		inv.writeBack("in_progress", "")
	}
}

// report settles the outcome, writes it to the console and the threat's notes, and
// ends the investigation.
func (inv *investigator) report() Result {
	res := &inv.result
	res.Actions = inv.status.Actions
	res.Outcome = outcomeOf(*res)
	if !inv.closedByAnalyst() {
		inv.writeBackOutcome(*res)
	}
	res.Wrote = append([]feedback.Write{}, inv.wrote...)
	inv.setStage(StageReporting)
	inv.status.Outcome = res.Outcome
	res.Slack = inv.closeSlack()
	inv.handOffOutcome(res)
	text, own := outcomeNote(*res)
	inv.note("outcome", text, own...)
	inv.finish(res.Outcome)
	return *res
}

// fail ends an investigation that cannot go on: the error outcome is searchable and the
// workflow fails, so it shows as failed in the Web UI for a human to pick up.
func (inv *investigator) fail(what string, err error) (Result, error) {
	inv.status.Outcome = OutcomeError
	inv.finish(OutcomeError)
	res := inv.result
	res.Outcome = OutcomeError
	return res, temporal.NewNonRetryableApplicationError(what+" failed: "+rootMessage(err), "InvestigationFailed", err)
}

// finish records the outcome and the final stage.
func (inv *investigator) finish(o Outcome) {
	inv.setStage(StageDone, OutcomeKey.ValueSet(string(o)))
}

// letHandlersFinish lets an approval update that arrived at the last moment finish
// cleanly, and the feedback record of a console change reported at the last moment.
func (inv *investigator) letHandlersFinish() {
	_ = workflow.Await(inv.ctx, func() bool { return workflow.AllHandlersFinished(inv.ctx) && inv.feedbackInFlight == 0 })
}
