// Package activities adapts the SentinelOne client and the analyzers to Temporal: one
// activity per external effect, each idempotent, with permanent failures returned as
// non-retryable errors so Temporal does not retry them forever.
package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/evidence"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/metrics"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// Activities holds the dependencies of the investigation activities.
type Activities struct {
	S1 *s1client.Client
	// Model is the configured LLM analyzer; nil when no model is configured.
	Model llm.Analyzer
	// Rules is the deterministic analyzer: the fallback, and the analyzer when Model is nil.
	Rules    llm.Analyzer
	Settings Settings
	// Handoff delivers cases to the SOAR or ticketing system; nil when none is configured.
	Handoff *handoff.Sender
	// Audit receives the audit records (JSON lines for a SIEM).
	Audit audit.Sink
	// Cache, when set, reuses the model's analysis for threats with the same evidence
	// fingerprint (an outbreak costs one model call per worker, not one per endpoint).
	Cache *llm.Cache
	// Policies, when set, is the policy file, reloaded when it changes; otherwise
	// Settings.Policy is fixed.
	Policies *policy.Store
	// ControlWorkflowID is the deployment's control workflow (kill switch and caps).
	ControlWorkflowID string
	// Slack posts the investigations' messages; nil when no bot token is configured.
	Slack *messages.Poster
	// Hunter is the hunting assistant's translators and results directory (hunt.go).
	Hunter Hunter
	// Now is the clock of this worker's short-lived caches (the control state, shared
	// verification reads); nil means time.Now.
	Now func() time.Time
	// CoalesceWindow is how long a SentinelOne read or write waits to share one request
	// with others of its kind (coalesced.go); 0 sends each alone.
	CoalesceWindow time.Duration
	// BurstWindow is the longer wait of writes in a burst (coalesce.Options.BurstWindow):
	// an outbreak's investigations reach the same step spread over seconds.
	BurstWindow time.Duration

	// control caches the control workflow's state for this worker's activities.
	control controlCache
	// verifyReads lets parallel verifications of one threat share their reads.
	verifyReads sharedReads
	// console coalesces the SentinelOne calls of concurrent activities.
	console consoleBatches
}

// ControlStateTTL is how long a worker reuses the control workflow's state (the kill
// switch) it read by Query: the switch reaches every worker within this time, and a
// busy fleet queries the singleton at most this often per worker.
const ControlStateTTL = time.Second

type controlCache struct {
	mu sync.Mutex
	st control.State
	at time.Time
}

// controlState reads the control workflow's state, or reuses a read younger than
// ControlStateTTL.
func (a *Activities) controlState(ctx context.Context) (control.State, error) {
	c := &a.control
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && a.now().Sub(c.at) < ControlStateTTL {
		return c.st, nil
	}
	st, err := a.controlClient(ctx).Current(ctx)
	if err != nil {
		return control.State{}, err
	}
	c.st, c.at = st, a.now()
	return st, nil
}

func (a *Activities) controlClient(ctx context.Context) control.Client {
	return control.Client{C: activity.GetClient(ctx), WorkflowID: a.ControlWorkflowID}
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// TimelineLimit bounds the timeline entries kept as evidence, so history stays small.
const TimelineLimit = 50

// GetSettings returns the worker's policy and timing for a new investigation, with the
// kill switch on if either the configuration or the control workflow says so.
func (a *Activities) GetSettings(ctx context.Context) (Settings, error) {
	s := a.Settings
	if a.Policies != nil {
		p, err := a.Policies.Current()
		if err != nil {
			// The new file is invalid: keep deciding with the last good version, loudly.
			activity.GetLogger(ctx).Error("Policy file reload failed; using the previous version.", "Error", err, "Version", p.VersionString())
		}
		s.Policy = p
	}
	if t := s.Policy.Approvals.Timeout; t > 0 {
		s.ApprovalTimeout = time.Duration(t)
	}
	st, err := a.controlState(ctx)
	if err != nil {
		return Settings{}, err // retried: the control workflow starts with the workers
	}
	s.KillSwitch = s.KillSwitch || st.KillSwitch
	s.ModelConfigured = a.Model != nil
	return s, nil
}

// RecordAudit appends the workflow's audit records. Their IDs are deterministic, so a
// retry can only write a duplicate line with the same ID.
func (a *Activities) RecordAudit(ctx context.Context, records []audit.Record) error {
	for _, r := range records {
		if err := r.Validate(); err != nil {
			return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeBadInput, nil)
		}
	}
	// Analyst feedback from a running investigation is counted here, with or without
	// an audit log, so the agreement rate does not depend on one being configured.
	for _, r := range records {
		if r.Kind == audit.KindAnalystFeedback {
			feedback.Count(activity.GetMetricsHandler(ctx), r)
		}
	}
	if a.Audit == nil {
		return nil
	}
	for _, r := range records {
		if err := a.Audit.Write(ctx, r); err != nil {
			return err // e.g. a full disk: retried
		}
	}
	return nil
}

// ReserveActions counts actions in the control workflow and, for automatic ones, checks
// the kill switch and the caps there: one place for the whole fleet.
//
// Under a policy without caps nothing needs counting: the kill switch is read by Query
// (control.Uncapped) instead of an Update, so investigations do not queue on the
// singleton (BENCHMARKS.md measured that queue as the fleet's throughput bound).
// Actions taken while caps are off are not counted toward caps turned on later.
func (a *Activities) ReserveActions(ctx context.Context, in ReserveInput) (control.ReserveResult, error) {
	req := control.ReserveRequest{InvestigationID: in.InvestigationID, Actions: in.Actions, Auto: in.Auto, Caps: in.Caps}
	if in.Caps == (policy.Caps{}) {
		if !in.Auto {
			return control.Uncapped(control.State{}, req), nil
		}
		st, err := a.controlState(ctx)
		if err != nil {
			return control.ReserveResult{}, err
		}
		return control.Uncapped(st, req), nil
	}
	return a.controlClient(ctx).Reserve(ctx, in.InvestigationID+"/reserve/"+in.Step, req)
}

// EnrichThreat reads the threat, its agent and its timeline and returns the compact
// evidence the rest of the investigation works from.
func (a *Activities) EnrichThreat(ctx context.Context, threatID string) (investigation.Evidence, error) {
	t, err := a.getThreat(ctx, threatID)
	if err != nil {
		return investigation.Evidence{}, S1Error("get threat "+threatID, err)
	}
	return a.enrich(ctx, ThreatFacts(t))
}

// EnrichFromSnapshot is EnrichThreat from the threat the poller had just listed when it
// started the investigation: the threat is not read again. A retried attempt reads it
// afresh (the snapshot may be what made the first attempt fail), and so does a reset
// investigation (ReadAgain).
func (a *Activities) EnrichFromSnapshot(ctx context.Context, in EnrichInput) (investigation.Evidence, error) {
	if in.Snapshot == nil || in.ReadAgain || in.Snapshot.ThreatID != in.ThreatID || activity.GetInfo(ctx).Attempt > 1 {
		return a.EnrichThreat(ctx, in.ThreatID)
	}
	return a.enrich(ctx, *in.Snapshot)
}

// enrich adds the threat's agent and timeline to its facts and, for a container or
// Kubernetes threat, the other recent threats in its cluster or image (colocated.go).
func (a *Activities) enrich(ctx context.Context, facts investigation.ThreatFacts) (investigation.Evidence, error) {
	ev := investigation.Evidence{Facts: facts}
	threatID := facts.ThreatID
	// The agent record is fresher than agentRealtimeInfo for tags and network status;
	// without it the threat's own copy is good enough, so a missing agent is not fatal.
	if agentID := facts.AgentID; agentID != "" {
		ag, err := a.getAgent(ctx, agentID)
		switch {
		case err == nil:
			MergeAgent(&ev.Facts, ag)
		case errors.Is(err, s1client.ErrNotFound):
			activity.GetLogger(ctx).Warn("Agent not found; using the threat's agent info.", "AgentID", agentID)
		default:
			return investigation.Evidence{}, S1Error("get agent "+agentID, err)
		}
	}
	entries, err := a.S1.ThreatTimeline(ctx, threatID, TimelineLimit+1)
	if err != nil {
		return investigation.Evidence{}, S1Error("get timeline of "+threatID, err)
	}
	for i, e := range entries {
		if i == TimelineLimit {
			ev.TimelineOmitted = len(entries) - TimelineLimit
			break
		}
		ev.Timeline = append(ev.Timeline, investigation.TimelineItem{
			At: e.CreatedAt.Time, ActivityType: e.ActivityType.Int(), Description: clip(strings.TrimSpace(e.PrimaryDescription+" "+e.SecondaryDescription), 300),
		})
	}
	// Last, so a failed timeline read's retry does not pay for it again; only a
	// container or Kubernetes threat pays this request at all.
	ev.CoLocated = a.coLocated(ctx, ev.Facts)
	return ev, nil
}

// GatherContext reads what SentinelOne knows around the threat (process tree,
// prevalence of its file, the host's earlier threats) for the model: three requests,
// one of them to GET /threats. It gathers nothing when nothing would read it: no
// model configured, an obvious case the rules answer alone, or an analysis of the
// same evidence already cached (an outbreak pays for context once). The
// evidence's Context is ignored.
func (a *Activities) GatherContext(ctx context.Context, ev investigation.Evidence) (investigation.Context, error) {
	ev.Context = nil
	switch {
	case a.Model == nil:
		return investigation.Context{Skipped: "no model configured: the rules engine does not read context"}, nil
	case a.Cache != nil && a.Cache.Holds(ev):
		return investigation.Context{Skipped: "an analysis of the same evidence is cached: it will be reused"}, nil
	}
	if _, why, ok := rules.PreFilter(ctx, ev); ok {
		return investigation.Context{Skipped: "obvious case, the model will not be asked: " + why}, nil
	}
	c, err := evidence.Gather(ctx, a.S1, ev.Facts)
	if err != nil {
		return c, S1Error("gather context", err)
	}
	return c, nil
}

// AnalyzeThreat asks the model, or the rules engine when no model is configured.
// It emits the model, cache, fallback and injection metrics (package metrics):
// llm knows nothing of Temporal, so the facts it returns are turned into metrics here.
func (a *Activities) AnalyzeThreat(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error) {
	h := activity.GetMetricsHandler(ctx)
	if a.Model == nil {
		return a.analyzeWithRules(ctx, ev, "no LLM configured (S1C_LLM_MODEL is empty): the rules engine analysed this threat", metrics.FallbackNoModel)
	}
	if an, why, ok := rules.PreFilter(ctx, ev); ok {
		an.FallbackReason = "obvious case, the model was not asked: " + why
		metrics.Fallback(h, metrics.FallbackPrefilter)
		metrics.Injection(h, len(an.InjectionFlags))
		return an, nil
	}
	var an investigation.Analysis
	var err error
	asked := true // whether this attempt asked the model (a cache hit or share did not)
	if a.Cache != nil {
		var outcome llm.CacheOutcome
		an, outcome, err = a.Cache.AnalyzeOutcome(ctx, activity.GetInfo(ctx).WorkflowExecution.ID, ev)
		metrics.Cache(h, metrics.CacheResult(outcome))
		asked = outcome == llm.CacheMiss || outcome == llm.CacheUncacheable
	} else {
		an, err = a.Model.Analyze(ctx, ev)
	}
	usage := an.Usage
	if err == nil {
		if verr := an.Validate(); verr != nil {
			err = fmt.Errorf("%w: %v", llm.ErrInvalidOutput, verr)
		}
	}
	if err == nil && a.Cache != nil {
		// A cached analysis was guarded against the data of the threat that paid for it:
		// check this threat's own strings (user, timeline, host names differ) the same way.
		// (Idempotent for the paying threat itself.)
		an, err = a.guardReused(ctx, ev, an)
	}
	if asked {
		recordModelCall(h, an.Corrected, usage, err)
	}
	if err == nil {
		an, err = a.holdToTheFloor(ctx, ev, an)
	}
	var unsupported *llm.UnsupportedVerdict
	if errors.As(err, &unsupported) {
		// A model that tried to talk the threat down, without the evidence to carry
		// it, is shown to a human; an unsupported upgrade falls back to the rules.
		if held, herr := a.holdToTheFloor(ctx, ev, unsupported.Analysis); herr == nil && held.Disagreement != nil {
			held.Disagreement.Reason = strings.Replace(held.Disagreement.Reason, "; a human decides",
				", and its answer quotes no evidence that would carry that (refused as unsupported); a human decides", 1)
			held.FallbackReason = held.Disagreement.Reason
			an, err = held, nil
		}
	}
	var pe *llm.ProviderError
	switch {
	case err == nil:
		metrics.Injection(h, len(an.InjectionFlags))
		return an, nil
	case errors.Is(err, llm.ErrInvalidOutput):
		return an, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeModelOutput, nil)
	case errors.As(err, &pe) && !pe.Retryable():
		return an, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeModelRefused, nil)
	case errors.As(err, &pe) && pe.RetryAfter > 0:
		return an, temporal.NewApplicationErrorWithOptions(err.Error(), "ModelRateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: pe.RetryAfter})
	}
	return an, err
}

// holdToTheFloor compares the model's verdict with SentinelOne's rating and the rules
// engine's verdict on the same evidence (guard.Disagreement). A model that reads the
// threat lower does not overrule them: the rules' analysis stands, carrying the
// model's reading, and the workflow puts the disagreement to a human. Checked for every
// threat, a reused analysis included: the rating and the rules are this threat's own.
func (a *Activities) holdToTheFloor(ctx context.Context, ev investigation.Evidence, model investigation.Analysis) (investigation.Analysis, error) {
	byRules, err := a.Rules.Analyze(ctx, ev)
	if err != nil {
		return model, temporal.NewNonRetryableApplicationError("rules analyzer: "+err.Error(), ErrTypeBadInput, nil)
	}
	d := guard.Disagreement(ev.Facts, model, byRules)
	if d == nil {
		return model, nil
	}
	byRules.Disagreement = d
	byRules.FallbackReason = d.Reason
	byRules.InjectionFlags = guard.DetectInjection(ev)
	byRules.Usage = model.Usage // what the model cost is still this investigation's
	metrics.Fallback(activity.GetMetricsHandler(ctx), metrics.FallbackDisagreement)
	activity.GetLogger(ctx).Warn("The model's verdict is lower than SentinelOne's or the rules'; a human decides.",
		"ModelVerdict", model.Verdict, "RulesVerdict", byRules.Verdict, "S1Rating", ev.Facts.ConfidenceLevel)
	return byRules, nil
}

// AnalyzeWithRules runs the rules engine and records why it stood in. Injection attempts
// in the threat's data are flagged here too: a model that failed may have failed because
// of them.
//
// The workflow calls it after AnalyzeThreat failed, with reason "model failed: <error>";
// the fallback is counted as invalid_output or model_error from that error.
func (a *Activities) AnalyzeWithRules(ctx context.Context, ev investigation.Evidence, reason string) (investigation.Analysis, error) {
	return a.analyzeWithRules(ctx, ev, reason, fallbackClass(reason))
}

func (a *Activities) analyzeWithRules(ctx context.Context, ev investigation.Evidence, reason string, class metrics.FallbackReason) (investigation.Analysis, error) {
	an, err := a.Rules.Analyze(ctx, ev)
	if err != nil {
		return an, temporal.NewNonRetryableApplicationError("rules analyzer: "+err.Error(), ErrTypeBadInput, nil)
	}
	an.FallbackReason = reason
	an.InjectionFlags = guard.DetectInjection(ev)
	h := activity.GetMetricsHandler(ctx)
	metrics.Fallback(h, class)
	metrics.Injection(h, len(an.InjectionFlags))
	return an, nil
}

// fallbackClass classifies the workflow's fallback reason: the model's answer was
// rejected (the error carries llm.ErrInvalidOutput's text or the activity's
// ErrTypeModelOutput type), or the model failed otherwise.
func fallbackClass(reason string) metrics.FallbackReason {
	if strings.Contains(reason, llm.ErrInvalidOutput.Error()) || strings.Contains(reason, "type: "+ErrTypeModelOutput+",") {
		return metrics.FallbackInvalidOutput
	}
	return metrics.FallbackModelError
}

// recordModelCall emits one model call: its outcome and cost, and where its
// answer failed validation. usage.Calls says whether a correction was asked.
func recordModelCall(h client.MetricsHandler, corrected bool, usage *investigation.ModelUsage, err error) {
	metrics.ModelCall(h, callOutcome(err), usage)
	requests := 0
	if usage != nil {
		requests = usage.Calls
	}
	switch {
	case err == nil && corrected:
		metrics.ValidationFailure(h, metrics.FirstAnswerRejected)
		metrics.ValidationFailure(h, metrics.CorrectedOnRetry)
	case errors.Is(err, llm.ErrInvalidOutput) && requests >= 2:
		metrics.ValidationFailure(h, metrics.FirstAnswerRejected)
		metrics.ValidationFailure(h, metrics.RejectedAfterRetry)
	case errors.Is(err, llm.ErrInvalidOutput), err != nil && requests >= 2:
		// An answer with nothing to correct (refused, cut off, empty), or a
		// correction request that failed at the provider.
		metrics.ValidationFailure(h, metrics.FirstAnswerRejected)
	}
}

// callOutcome classifies the error of a model call.
func callOutcome(err error) metrics.CallOutcome {
	var ne net.Error
	switch {
	case err == nil:
		return metrics.CallOK
	case errors.Is(err, llm.ErrInvalidOutput):
		return metrics.CallInvalidOutput
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &ne) && ne.Timeout():
		return metrics.CallTimeout
	}
	return metrics.CallProviderError
}

func (a *Activities) guardReused(ctx context.Context, ev investigation.Evidence, an investigation.Analysis) (investigation.Analysis, error) {
	flags := guard.DetectInjection(ev)
	an.InjectionFlags = flags
	if len(flags) == 0 {
		return an, nil
	}
	byRules, err := a.Rules.Analyze(ctx, ev)
	if err != nil {
		return an, fmt.Errorf("%w: rules analyzer for the injection guard: %v", llm.ErrInvalidOutput, err)
	}
	return guard.AgainstInjection(an, byRules, flags), nil
}

// PostNote posts a note unless a note carrying the same marker is already on the threat,
// so a retry after a crash between POST and completion does not post it twice. Only the
// first attempt of a first post (NoteInput.FirstPost) cannot find one, and skips the read.
func (a *Activities) PostNote(ctx context.Context, in NoteInput) (NoteResult, error) {
	if in.Marker == "" || in.ThreatID == "" {
		return NoteResult{}, temporal.NewNonRetryableApplicationError("note needs a threat ID and a marker", ErrTypeBadInput, nil)
	}
	if mayBeSent(ctx, in.FirstPost) {
		notes, err := a.S1.ThreatNotes(ctx, in.ThreatID)
		if err != nil {
			return NoteResult{}, S1Error("list notes of "+in.ThreatID, err)
		}
		for _, n := range notes {
			if strings.Contains(n.Text, in.Marker) {
				return NoteResult{AlreadyPosted: true}, nil
			}
		}
	}
	if in.Shareable && a.CoalesceWindow > 0 {
		// One note for the threats whose notes differ only in their own lines.
		_, batch, err := a.batches().notes.Do(ctx, sharedPart(in), in)
		if err != nil {
			return NoteResult{}, err
		}
		return NoteResult{Batch: batch}, nil
	}
	affected, err := a.S1.AddThreatNote(ctx, []string{in.ThreatID}, in.Text+"\n"+in.Marker)
	if err != nil {
		return NoteResult{}, S1Error("add note to "+in.ThreatID, err)
	}
	if affected == 0 {
		return NoteResult{}, temporal.NewNonRetryableApplicationError("SentinelOne added the note to no threat (deleted, or out of the token's scope)", ErrTypeThreatNotFound, nil)
	}
	return NoteResult{}, nil
}

// mayBeSent says whether a side effect may have been sent already, so that its guard read
// is needed: always, unless the workflow vouches for a first send and this is the
// activity's first attempt.
func mayBeSent(ctx context.Context, firstSend bool) bool {
	return !firstSend || activity.GetInfo(ctx).Attempt > 1
}

// Mitigate requests one action, unless the threat (or agent) already shows it, so a retry
// never mitigates or isolates twice. The first attempt of a first request
// (MitigateInput.FirstRequest) has nothing to find and skips that read.
func (a *Activities) Mitigate(ctx context.Context, in MitigateInput) (MitigateResult, error) {
	if in.Action == investigation.ActionIsolate {
		return a.isolate(ctx, in)
	}
	if in.Action == investigation.ActionCollectForensics {
		return a.collectForensics(ctx, in)
	}
	action, err := wireAction(in.Action)
	if err != nil {
		return MitigateResult{}, err
	}
	if mayBeSent(ctx, in.FirstRequest) {
		t, err := a.getThreat(ctx, in.ThreatID)
		if err != nil {
			return MitigateResult{}, S1Error("get threat "+in.ThreatID, err)
		}
		if e, ok := t.MitigationEntry(action.StatusAction()); ok {
			activity.GetLogger(ctx).Info("Action already on the threat; not requesting it again.", "Action", in.Action, "Status", e.Status)
			return MitigateResult{AlreadyRequested: true}, nil
		}
	}
	// Sent with the concurrent requests of the same action (one POST for an outbreak);
	// refused says why the console did not act on this threat.
	refused, batch, err := a.batches().mitigate.Do(ctx, action, in.ThreatID)
	if err != nil {
		return MitigateResult{}, S1Error(string(action)+" "+in.ThreatID, err)
	}
	return MitigateResult{Refused: refused, Batch: batch}, nil
}

func (a *Activities) isolate(ctx context.Context, in MitigateInput) (MitigateResult, error) {
	if in.AgentID == "" {
		return MitigateResult{}, temporal.NewNonRetryableApplicationError("isolation needs the agent ID", ErrTypeBadInput, nil)
	}
	ag, err := a.getAgent(ctx, in.AgentID)
	if err != nil {
		return MitigateResult{}, S1Error("get agent "+in.AgentID, err)
	}
	if ag.NetworkStatus == "disconnecting" || ag.NetworkStatus == "disconnected" {
		return MitigateResult{AlreadyRequested: true}, nil
	}
	refused, batch, err := a.batches().disconnect.Do(ctx, struct{}{}, in.AgentID)
	if err != nil {
		return MitigateResult{}, S1Error("disconnect agent "+in.AgentID, err)
	}
	return MitigateResult{Refused: refused, Batch: batch}, nil
}

// WriteBack sets the threat's incident status (and analyst verdict) in the console. Setting
// a value that is already there changes nothing, so a retry is harmless.
func (a *Activities) WriteBack(ctx context.Context, in WriteBackInput) error {
	if _, _, err := a.batches().incident.Do(ctx, incidentWrite{in.IncidentStatus, in.AnalystVerdict}, in.ThreatID); err != nil {
		return S1Error("write back to "+in.ThreatID, err)
	}
	return nil
}

// VerifyMitigation reads the action's state once. While it is not settled it returns a
// benign retryable error: the activity's retry policy is the polling loop, and its
// schedule-to-close timeout the deadline.
func (a *Activities) VerifyMitigation(ctx context.Context, in VerifyInput) (VerifyResult, error) {
	if in.Action == investigation.ActionCollectForensics {
		return a.verifyForensics(ctx, in)
	}
	if in.Action == investigation.ActionIsolate {
		ag, err := a.getAgent(ctx, in.AgentID)
		if err != nil {
			return VerifyResult{}, S1Error("get agent "+in.AgentID, err)
		}
		if ag.NetworkStatus == "disconnected" {
			return VerifyResult{State: s1client.MitigationStatusSuccess, Detail: "agent disconnected from the network"}, nil
		}
		return VerifyResult{}, a.notSettled("isolation: network status is " + ag.NetworkStatus)
	}
	action, err := wireAction(in.Action)
	if err != nil {
		return VerifyResult{}, err
	}
	t, err := a.verifyReads.threat(ctx, a.now, in.ThreatID, a.getThreat)
	if err != nil {
		return VerifyResult{}, S1Error("get threat "+in.ThreatID, err)
	}
	e, ok := t.MitigationEntry(action.StatusAction())
	if !ok || !e.Done() {
		status := "no status yet"
		if ok {
			status = e.Status
		}
		return VerifyResult{}, a.notSettled(fmt.Sprintf("%s: %s", in.Action, status))
	}
	switch e.Status {
	case s1client.MitigationStatusPartial:
		return VerifyResult{State: s1client.MitigationStatusFailed, Detail: "partially applied on the agent"}, nil
	case s1client.MitigationStatusPendingReboot:
		return VerifyResult{State: e.Status, Detail: "the agent needs a reboot to finish"}, nil
	}
	return VerifyResult{State: e.Status, Detail: "reported by the agent at " + e.LastUpdate.UTC().Format(time.RFC3339)}, nil
}

func (a *Activities) notSettled(what string) error {
	return temporal.NewApplicationErrorWithOptions("not settled yet: "+what, ErrTypeNotSettled, temporal.ApplicationErrorOptions{
		Category:       temporal.ApplicationErrorCategoryBenign,
		NextRetryDelay: a.Settings.MitigationPoll,
	})
}

func wireAction(act investigation.Action) (s1client.MitigationAction, error) {
	switch act {
	case investigation.ActionKill:
		return s1client.MitigationKill, nil
	case investigation.ActionQuarantine:
		return s1client.MitigationQuarantine, nil
	case investigation.ActionRemediate:
		return s1client.MitigationRemediate, nil
	case investigation.ActionRollback:
		return s1client.MitigationRollback, nil
	}
	return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown action %q", act), ErrTypeBadInput, nil)
}

// S1Error turns a SentinelOne client error into an activity error: permanent failures (bad token,
// missing permission, bad request, unknown threat) stop retrying at once; rate limits
// retry when SentinelOne says; everything else retries with backoff.
func S1Error(op string, err error) error {
	msg := op + ": " + err.Error()
	var apiErr *s1client.APIError
	switch {
	case errors.Is(err, s1client.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeThreatNotFound, nil)
	case errors.Is(err, s1client.ErrUnauthorized), errors.Is(err, s1client.ErrForbidden), errors.Is(err, s1client.ErrValidation):
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeS1Refused, nil)
	case errors.As(err, &apiErr) && apiErr.RetryDelay() > 0:
		// 429: wait as long as SentinelOne asks (or the documented fallback), not our backoff.
		return temporal.NewApplicationErrorWithOptions(msg, "S1RateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: apiErr.RetryDelay()})
	}
	return fmt.Errorf("%s: %w", op, err)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
