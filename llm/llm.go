// Package llm turns the evidence about one SentinelOne threat into an
// investigation.Analysis with a model: OpenAI, behind any OpenAI-compatible
// chat-completions API, and Cache, which reuses its analyses across threats
// with the same evidence. Both implement Analyzer, as does rules.Engine, the
// deterministic fallback; the defences around the model (injection, grounding,
// pseudonymisation) are in package guard.
//
// The package knows nothing of Temporal or of the SentinelOne client: callers
// decide about retries from the errors it returns (ErrInvalidOutput,
// *ProviderError, or a wrapped transport error).
package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
)

// Analyzer turns evidence about one threat into an Analysis. Implementations set Analysis.Analyzer.
type Analyzer interface {
	Analyze(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error)
}

// ErrInvalidOutput means the model answered, but the answer is unusable (empty,
// refused, truncated, not JSON, failing investigation.Analysis.Validate, or not
// grounded in the evidence: see guard.CheckGrounding). It is wrapped with the detail.
// The OpenAI analyzer has already asked once for a corrected answer when there
// was one to correct, so callers should fall back rather than retry blindly.
var ErrInvalidOutput = errors.New("llm: model output failed validation")

// UnsupportedVerdict is a model's answer, corrected once, that is valid and grounded
// but whose verdict departs from SentinelOne's rating without quoting what would carry
// it (guard.Grounding.DirectionProblems). It is ErrInvalidOutput: the analysis is not
// used. Analysis is what the model read, kept so that a model that tried to talk a
// threat down is shown to a human rather than only logged.
type UnsupportedVerdict struct {
	Analysis investigation.Analysis
	Problems []string
}

func (e *UnsupportedVerdict) Error() string {
	return fmt.Sprintf("%v: the answer was retried once with its validation problems and still fails: %s", ErrInvalidOutput, strings.Join(e.Problems, "; "))
}

// Unwrap makes it ErrInvalidOutput.
func (e *UnsupportedVerdict) Unwrap() error { return ErrInvalidOutput }

// ProviderError is an HTTP error answered by the model provider.
// Message comes from the provider with the API key redacted.
type ProviderError struct {
	StatusCode int
	Message    string
	// RetryAfter is the provider's Retry-After hint (0 if none), so a caller can
	// schedule its next attempt instead of guessing.
	RetryAfter time.Duration
}

func (e *ProviderError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("llm: provider returned HTTP %d: %s", e.StatusCode, msg)
}

// Retryable reports whether the same request may succeed later: timeouts,
// conflicts, rate limits and server errors are transient; bad requests,
// authentication and unknown models are not.
func (e *ProviderError) Retryable() bool {
	switch {
	case e.StatusCode == http.StatusRequestTimeout,
		e.StatusCode == http.StatusConflict,
		e.StatusCode == http.StatusTooManyRequests,
		e.StatusCode >= 500:
		return true
	default:
		return false
	}
}

// retryAfter reads the provider's back-off hint: OpenAI sends retry-after-ms as
// well as the standard Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
