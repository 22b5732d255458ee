package handoff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/s1copilot/s1copilot/signature"
)

// Request headers besides Content-Type and the signature's.
const (
	// IdempotencyKeyHeader: the same key on every attempt of one delivery; a receiver that
	// has seen the key answers as it did the first time and creates nothing new.
	IdempotencyKeyHeader = "Idempotency-Key"
	// EventHeader carries the stage (triage | outcome), for routing without parsing.
	EventHeader = "X-S1C-Event"
	// SchemaVersionHeader carries SchemaVersion.
	SchemaVersionHeader = "X-S1C-Schema-Version"
	// ReplayedHeader, on a 2xx answer, "true": the receiver had already processed the
	// key and answered from its record (Receipt.Duplicate).
	ReplayedHeader = "Idempotent-Replayed"
)

const (
	// DefaultTimeout bounds one attempt when Sender.Client is nil.
	DefaultTimeout = 30 * time.Second
	// maxResponse is how much of an answer is read.
	maxResponse = 64 << 10
	// maxReported is how much of a refusal is quoted in an error.
	maxReported = 300
	// maxRetryAfter caps a receiver's Retry-After.
	maxRetryAfter = time.Hour
)

// Sender delivers cases to one receiver.
type Sender struct {
	URL string
	// Secret keys the X-S1C-Signature HMAC; empty sends unsigned.
	Secret []byte
	// Client makes the request; nil uses one with DefaultTimeout. Redirects are never
	// followed (a redirected POST would lose its body or method): a 3xx is an error.
	Client *http.Client
	// Now stamps the signature; nil is time.Now.
	Now func() time.Time
}

// Receipt is a receiver's acceptance of a case.
type Receipt struct {
	Status int
	// TicketID is the receiver's ticket, "" when it returned none.
	TicketID string
	// Duplicate: the receiver had already processed this idempotency key (an earlier
	// attempt arrived but its answer was lost).
	Duplicate bool
}

// DeliveryError is a failed attempt. Retryable ones (network errors, timeouts, 5xx, 408,
// 409 — the key is still being processed — and 429) may succeed if the same delivery is
// sent again with the same idempotency key, after RetryAfter when the receiver gave one;
// the others (other 4xx, 3xx, an invalid case) will fail the same way until the
// configuration or the receiver changes, and Msg says what to fix. No message contains
// the secret.
type DeliveryError struct {
	Status     int // HTTP status; 0 when there was no answer
	Retryable  bool
	RetryAfter time.Duration // the receiver's Retry-After, 0 if none
	Msg        string
	Err        error // the transport error, if any
}

func (e *DeliveryError) Error() string { return "handoff: " + e.Msg }
func (e *DeliveryError) Unwrap() error { return e.Err }

// TicketIDError: the receiver accepted the case (Receipt.Status is 2xx) but answered a
// ticket ID that cannot be written to SentinelOne. Not retryable: sending again returns
// the same ID; the receiver must be fixed.
type TicketIDError struct {
	Status int
	Reason string
	Value  string // the ID as received, truncated
}

func (e *TicketIDError) Error() string {
	return fmt.Sprintf("handoff: the receiver accepted the case (HTTP %d) but its ticketId %q is unusable: %s; a ticket ID is written to SentinelOne and shown in notes, so it must be 1..%d characters without control characters: fix the receiver",
		e.Status, e.Value, e.Reason, MaxTicketIDLen)
}

// IsRetryable reports whether err is a DeliveryError that may succeed if retried.
func IsRetryable(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && de.Retryable
}

// Send makes one attempt to deliver c, keyed by idempotencyKey (the same key on every
// retry of this delivery, e.g. "<caseId>/<stage>"). The caller retries retryable errors
// with backoff (IsRetryable; DeliveryError.RetryAfter). On a 2xx answer the Receipt is
// returned even when the error is a *TicketIDError: the case was delivered.
//
// The request: POST URL, JSON body, headers Content-Type, Idempotency-Key, X-S1C-Event,
// X-S1C-Schema-Version, and X-S1C-Timestamp / X-S1C-Signature when Secret is set. A 2xx
// body may be {"ticketId": "…", "duplicate": bool}; an empty or non-JSON body is a
// delivery without a ticket.
func (s *Sender) Send(ctx context.Context, c Case, idempotencyKey string) (Receipt, error) {
	if err := c.Validate(); err != nil {
		return Receipt{}, &DeliveryError{Msg: err.Error() + " (a bug in the sender: retrying cannot help)"}
	}
	if why := checkKey(idempotencyKey); why != "" {
		return Receipt{}, &DeliveryError{Msg: "idempotency key " + why}
	}
	endpoint, err := url.Parse(s.URL)
	if err != nil || (endpoint.Scheme != "http" && endpoint.Scheme != "https") || endpoint.Host == "" {
		return Receipt{}, &DeliveryError{Msg: "the receiver URL must be an http(s) URL: check S1C_HANDOFF_URL"}
	}
	where := endpoint.Scheme + "://" + endpoint.Host + endpoint.EscapedPath() // no query, no user info
	body, err := json.Marshal(c)
	if err != nil {
		return Receipt{}, &DeliveryError{Msg: "encoding the case: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return Receipt{}, &DeliveryError{Msg: "building the request: " + s.redact(err.Error())}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "s1copilot-handoff/"+SchemaVersion)
	req.Header.Set(IdempotencyKeyHeader, idempotencyKey)
	req.Header.Set(EventHeader, string(c.Stage))
	req.Header.Set(SchemaVersionHeader, c.SchemaVersion)
	if len(s.Secret) > 0 {
		signature.SetHeaders(req.Header, s.Secret, s.now(), body)
	}

	resp, err := s.client().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the full URL
		}
		return Receipt{}, &DeliveryError{Retryable: true, Err: err,
			Msg: fmt.Sprintf("POST %s: no answer: %s (retrying)", where, s.redact(err.Error()))}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))

	st := resp.StatusCode
	switch {
	case st >= 200 && st < 300:
		return s.accepted(resp, raw)
	case st >= 500 || st == http.StatusTooManyRequests || st == http.StatusRequestTimeout || st == http.StatusConflict:
		return Receipt{}, &DeliveryError{Status: st, Retryable: true, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), s.now()),
			Msg: fmt.Sprintf("POST %s: HTTP %d%s (retrying)", where, st, s.quote(raw))}
	case st >= 300 && st < 400:
		return Receipt{}, &DeliveryError{Status: st,
			Msg: fmt.Sprintf("POST %s: HTTP %d redirect to %q: redirects are not followed; set S1C_HANDOFF_URL to the final address", where, st, s.redact(resp.Header.Get("Location")))}
	default:
		return Receipt{}, &DeliveryError{Status: st,
			Msg: fmt.Sprintf("POST %s: HTTP %d%s: %s", where, st, s.quote(raw), fixFor(st))}
	}
}

func (s *Sender) accepted(resp *http.Response, raw []byte) (Receipt, error) {
	r := Receipt{Status: resp.StatusCode, Duplicate: strings.EqualFold(resp.Header.Get(ReplayedHeader), "true")}
	var ans struct {
		TicketID  json.RawMessage `json:"ticketId"`
		Duplicate bool            `json:"duplicate"`
	}
	if json.Unmarshal(raw, &ans) != nil { // empty, not JSON, not an object: no ticket
		return r, nil
	}
	r.Duplicate = r.Duplicate || ans.Duplicate
	id, ok := "", true
	switch v := bytes.TrimSpace(ans.TicketID); {
	case len(v) == 0 || string(v) == "null":
		return r, nil
	case v[0] == '"':
		ok = json.Unmarshal(v, &id) == nil
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		id = string(v) // a numeric ticket, kept as written
	default:
		ok = false
	}
	if !ok {
		return r, &TicketIDError{Status: r.Status, Reason: "not a string", Value: truncate(string(ans.TicketID), 64)}
	}
	if why := CheckTicketID(id); why != "" {
		return r, &TicketIDError{Status: r.Status, Reason: why, Value: truncate(id, 64)}
	}
	r.TicketID = id
	return r, nil
}

// fixFor says what to fix for a refusal.
func fixFor(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the receiver refused the credentials: check that S1C_HANDOFF_SECRET is the receiver's secret and that both clocks are right"
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return "no case endpoint at this URL: check S1C_HANDOFF_URL (it must accept POST)"
	case http.StatusRequestEntityTooLarge:
		return "the case is larger than the receiver accepts: raise its body limit"
	case http.StatusUnsupportedMediaType, http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "the receiver refused the document: check that it accepts case schema version " + SchemaVersion + " (handoff/case.schema.json)"
	}
	return "the receiver refused the case; check S1C_HANDOFF_URL, S1C_HANDOFF_SECRET and that it accepts case schema version " + SchemaVersion
}

// quote renders what the receiver said, truncated and made printable.
func (s *Sender) quote(raw []byte) string {
	t := strings.TrimSpace(string(raw))
	if t == "" {
		return ""
	}
	t = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, t)
	return fmt.Sprintf(", receiver said %q", truncate(s.redact(t), maxReported))
}

// redact removes the secret from text that came from elsewhere (a receiver echoing it).
func (s *Sender) redact(text string) string {
	if len(s.Secret) >= 4 {
		text = strings.ReplaceAll(text, string(s.Secret), "[redacted]")
	}
	return text
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

func checkKey(k string) string {
	switch {
	case k == "":
		return "is empty (a bug in the sender: each delivery needs a stable key)"
	case len(k) > 255:
		return "is longer than 255 bytes"
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return fmt.Sprintf("%q must be printable ASCII without spaces", truncate(k, 64))
		}
	}
	return ""
}

func (s *Sender) client() *http.Client {
	c := &http.Client{Timeout: DefaultTimeout}
	if s.Client != nil {
		cp := *s.Client
		c = &cp
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
