// Package metrics names s1copilot's application metrics, emits them through the
// Temporal SDK's metrics handler, and serves them, with the SDK's own metrics, in
// Prometheus format (see NewPrometheus).
//
// Application metrics go through the SDK handler (activity.GetMetricsHandler in
// activities, workflow.GetMetricsHandler in workflows, which skips replay) rather
// than a registry of their own, so they carry the same namespace / task queue /
// workflow and activity type labels as the SDK's metrics and land in one registry.
//
// Every name is defined here once. Each metric must always be emitted with the
// same tag keys, and from the same kind of context (activity or workflow): a
// Prometheus metric has one label set, and the SDK adds different labels in
// activities and in workflows.
package metrics

import (
	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/investigation"
)

// Metric names, as Prometheus shows them. Counters end in _total and timers in
// _seconds already, so the Prometheus naming scope leaves them as they are.
const (
	// ModelCalls counts analyses asked of the model (one per activity attempt that
	// reached the model; a correction retry is part of the same call), by outcome.
	ModelCalls = "s1copilot_model_calls_total"
	// ModelRequests counts HTTP requests to the model: one per call, two when the
	// first answer was sent back for correction.
	ModelRequests = "s1copilot_model_requests_total"
	// ModelPromptTokens and ModelCompletionTokens sum the tokens the provider
	// reported (response usage), over every request, invalid answers included.
	ModelPromptTokens     = "s1copilot_model_prompt_tokens_total"
	ModelCompletionTokens = "s1copilot_model_completion_tokens_total"
	// ModelLatency is the time one call waited for the model (all its requests), by outcome.
	ModelLatency = "s1copilot_model_latency_seconds"
	// ModelValidationFailures counts answers that failed validation, by stage.
	ModelValidationFailures = "s1copilot_model_validation_failures_total"
	// RulesFallbacks counts analyses the rules engine made instead of the model, by reason.
	RulesFallbacks = "s1copilot_rules_fallbacks_total"
	// AnalysisCache counts analysis-cache lookups, by result.
	AnalysisCache = "s1copilot_analysis_cache_total"
	// InjectionFlags counts suspected prompt-injection flags raised on final analyses.
	InjectionFlags = "s1copilot_injection_flags_total"
	// AnalystFeedback counts analyst verdicts compared with s1copilot's, by
	// agreement (agree|disagree) and source (console|approval); the agreement
	// rate is agree / all (see the README).
	AnalystFeedback = "s1copilot_analyst_feedback_total"
	// S1TokenExpiry is the seconds until the SentinelOne API token expires (negative
	// once it has), read from the console at start and daily by the worker.
	S1TokenExpiry = "s1copilot_s1_token_expiry_seconds"
)

// Names lists every application metric, for documentation and tests.
var Names = []string{
	ModelCalls, ModelRequests, ModelPromptTokens, ModelCompletionTokens, ModelLatency,
	ModelValidationFailures, RulesFallbacks, AnalysisCache, InjectionFlags, AnalystFeedback,
	S1TokenExpiry,
}

// Tag keys.
const (
	TagOutcome   = "outcome"
	TagStage     = "stage"
	TagReason    = "reason"
	TagResult    = "result"
	TagAgreement = "agreement"
	TagSource    = "source"
)

// CallOutcome is how a model call ended.
type CallOutcome string

const (
	CallOK            CallOutcome = "ok"
	CallInvalidOutput CallOutcome = "invalid_output" // answered, but unusable even after a correction
	CallProviderError CallOutcome = "provider_error" // HTTP error or unreachable provider
	CallTimeout       CallOutcome = "timeout"        // no answer before the deadline
)

// ValidationStage says where an answer failed validation.
type ValidationStage string

const (
	// FirstAnswerRejected: the first answer failed validation (counted once per
	// call, whatever happened next).
	FirstAnswerRejected ValidationStage = "first_answer_rejected"
	// CorrectedOnRetry: the answer sent back for correction came back valid.
	CorrectedOnRetry ValidationStage = "corrected_on_retry"
	// RejectedAfterRetry: the corrected answer failed validation too.
	RejectedAfterRetry ValidationStage = "rejected_after_retry"
)

// FallbackReason classifies why the rules engine analysed a threat.
type FallbackReason string

const (
	FallbackNoModel       FallbackReason = "no_model"       // no model configured
	FallbackPrefilter     FallbackReason = "prefilter"      // obvious case, the model was not asked
	FallbackModelError    FallbackReason = "model_error"    // the model failed (provider error, timeout, retries exhausted)
	FallbackInvalidOutput FallbackReason = "invalid_output" // the model's answer was rejected
	// FallbackDisagreement: the model read the threat lower than SentinelOne or the
	// rules; the higher reading stands until a human decides.
	FallbackDisagreement FallbackReason = "disagreement"
)

// CacheResult is how the analysis cache answered.
type CacheResult string

const (
	CacheHit         CacheResult = "hit"
	CacheMiss        CacheResult = "miss"
	CacheShared      CacheResult = "shared" // waited for another investigation's in-flight call
	CacheUncacheable CacheResult = "uncacheable"
)

// Agreement is whether an analyst's verdict matches s1copilot's.
type Agreement string

const (
	Agree    Agreement = "agree"
	Disagree Agreement = "disagree"
	// NotApplicable: nothing to compare (a status-only change, or no copilot verdict).
	NotApplicable Agreement = "n_a"
)

// FeedbackSource is where an analyst's verdict was seen.
type FeedbackSource string

const (
	SourceConsole  FeedbackSource = "console"  // changed in the SentinelOne console
	SourceApproval FeedbackSource = "approval" // an approval decision
)

// ModelCall records one model call: its outcome, and what it cost when u is not
// nil (requests, tokens, latency).
func ModelCall(h client.MetricsHandler, outcome CallOutcome, u *investigation.ModelUsage) {
	tagged := h.WithTags(map[string]string{TagOutcome: string(outcome)})
	tagged.Counter(ModelCalls).Inc(1)
	if u == nil {
		return
	}
	h.Counter(ModelRequests).Inc(int64(u.Calls))
	h.Counter(ModelPromptTokens).Inc(u.PromptTokens)
	h.Counter(ModelCompletionTokens).Inc(u.CompletionTokens)
	tagged.Timer(ModelLatency).Record(u.Latency)
}

// ValidationFailure records one answer rejected (or corrected) at stage.
func ValidationFailure(h client.MetricsHandler, stage ValidationStage) {
	h.WithTags(map[string]string{TagStage: string(stage)}).Counter(ModelValidationFailures).Inc(1)
}

// Fallback records an analysis made by the rules engine instead of the model.
func Fallback(h client.MetricsHandler, reason FallbackReason) {
	h.WithTags(map[string]string{TagReason: string(reason)}).Counter(RulesFallbacks).Inc(1)
}

// Cache records one analysis-cache lookup.
func Cache(h client.MetricsHandler, result CacheResult) {
	h.WithTags(map[string]string{TagResult: string(result)}).Counter(AnalysisCache).Inc(1)
}

// Injection records the suspected prompt-injection flags of a final analysis.
func Injection(h client.MetricsHandler, flags int) {
	if flags > 0 {
		h.Counter(InjectionFlags).Inc(int64(flags))
	}
}

// Feedback records one analyst verdict compared with s1copilot's.
func Feedback(h client.MetricsHandler, agreement Agreement, source FeedbackSource) {
	h.WithTags(map[string]string{TagAgreement: string(agreement), TagSource: string(source)}).Counter(AnalystFeedback).Inc(1)
}

// latencyBuckets (seconds) cover SDK task latencies (milliseconds) and model
// calls (up to the 80 s an analysis with a correction may take).
var latencyBuckets = []float64{
	0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
	1, 2, 5, 10, 20, 30, 60, 90, 120,
}
