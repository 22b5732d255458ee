package s1client

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. An *APIError unwraps to the one matching its HTTP status, so callers
// (e.g. activities deciding what is retryable) can use errors.Is without parsing bodies.
// Client-side argument checks also wrap ErrValidation: they are just as permanent.
var (
	ErrNotFound     = errors.New("s1: not found")
	ErrUnauthorized = errors.New("s1: unauthorized")
	ErrForbidden    = errors.New("s1: forbidden")
	ErrValidation   = errors.New("s1: validation error")
	ErrRateLimited  = errors.New("s1: rate limited")
	ErrServer       = errors.New("s1: server error")
	// ErrBadResponse: a 2xx answer whose body could not be read to the end or decoded
	// (truncated or invalid JSON). The usual cause is a proxy or load balancer cutting the
	// body, so callers should treat it as retryable; the error text names the endpoint. A
	// failure that persists across retries points at a console schema change.
	ErrBadResponse = errors.New("s1: bad response body")
	// ErrAmbiguous: a lookup that must match one object matched several
	// (AgentByComputerName). Permanent: retrying gives the same answer.
	ErrAmbiguous = errors.New("s1: ambiguous match")
)

// DefaultRetryAfter is the wait RetryDelay suggests for a 429 without a usable Retry-After
// header. 5 s is the fallback GOBP (the build-partner Go SDK) uses; whether the console sends
// Retry-After at all is unverified (API reference §1.4).
const DefaultRetryAfter = 5 * time.Second

// consoleHint is added when the console cannot be reached, or answers like something that
// is not a SentinelOne console, before it ever returned JSON: the usual cause is a wrong
// (region-specific) console URL.
const consoleHint = "check the console URL: it is region-specific (e.g. https://usea1.sentinelone.net), " +
	"so use the host you see in your browser when logged in to the SentinelOne console"

// ErrorDetail is one item of the console's {"errors":[…]} envelope.
type ErrorDetail struct {
	Code   int    `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// APIError is a non-2xx answer from the console.
type APIError struct {
	StatusCode int
	Method     string
	// Path is the request path template below /web/api/v2.1, without the query string.
	Path   string
	Errors []ErrorDetail
	// RetryAfter is the parsed Retry-After header (0 if absent).
	RetryAfter time.Duration
	// Body is the raw body, truncated, when it was not a JSON error envelope.
	Body string

	hint string
}

// Error renders e.g. `s1: POST /threats/mitigate/kill: 400 Validation Error (4000010): …`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "s1: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if len(e.Errors) == 0 {
		if txt := http.StatusText(e.StatusCode); txt != "" {
			b.WriteString(" " + txt)
		}
		if e.Body != "" {
			b.WriteString(": " + e.Body)
		}
	}
	for i, d := range e.Errors {
		if i > 0 {
			b.WriteString(";")
		}
		if d.Title != "" {
			b.WriteString(" " + d.Title)
		}
		if d.Code != 0 {
			fmt.Fprintf(&b, " (%d)", d.Code)
		}
		if d.Detail != "" {
			b.WriteString(": " + d.Detail)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.hint != "" {
		b.WriteString("; " + e.hint)
	}
	return b.String()
}

// Unwrap maps the status to a sentinel error.
func (e *APIError) Unwrap() error {
	switch {
	case e.StatusCode == http.StatusBadRequest, e.StatusCode == http.StatusUnprocessableEntity:
		return ErrValidation
	case e.StatusCode == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.StatusCode == http.StatusForbidden:
		return ErrForbidden
	case e.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case e.StatusCode == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.StatusCode >= 500:
		return ErrServer
	}
	return nil
}

// RetryDelay is how long to wait before retrying: RetryAfter when the console sent one,
// DefaultRetryAfter for a 429 without it, and 0 otherwise (the caller's own backoff applies).
func (e *APIError) RetryDelay() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	if e.StatusCode == http.StatusTooManyRequests {
		return DefaultRetryAfter
	}
	return 0
}

// Temporary reports whether retrying later may succeed (429 and 5xx).
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date; 0 if absent/invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

// invalidArg builds a client-side argument error; it wraps ErrValidation.
func invalidArg(op, format string, args ...any) error {
	return fmt.Errorf("s1: %s: %s: %w", op, fmt.Sprintf(format, args...), ErrValidation)
}
