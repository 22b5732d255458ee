// Package signature is s1copilot's HMAC request signature, one scheme for both
// directions: the inbound push endpoint (ingest.Push) verifies it, and the outbound case
// hand-off (handoff.Sender) sets it.
//
//	X-S1C-Timestamp: <unix seconds>
//	X-S1C-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret>
//
// The timestamp is inside the MAC, so a captured request can be replayed only within the
// receiver's allowed clock skew; receivers that must refuse even that dedupe on an
// idempotency key.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names and the signature's scheme prefix.
const (
	TimestampHeader = "X-S1C-Timestamp"
	SignatureHeader = "X-S1C-Signature"
	Scheme          = "sha256="
)

// DefaultMaxSkew is the skew Verify allows when given maxSkew <= 0.
const DefaultMaxSkew = 5 * time.Minute

// Errors Verify wraps, for callers that tell the cases apart (errors.Is). The messages
// around them say which header and what is wrong.
var (
	// ErrMissing: a signature header is absent or empty.
	ErrMissing = errors.New("missing signature header")
	// ErrMalformed: a header is present but not in the scheme's format.
	ErrMalformed = errors.New("malformed signature header")
	// ErrSkew: the timestamp is too far from the verifier's clock (stale or replayed).
	ErrSkew = errors.New("signature timestamp outside the allowed skew")
	// ErrMismatch: the MAC does not match (wrong secret, or the body or timestamp changed).
	ErrMismatch = errors.New("invalid signature")
	// ErrNoSecret: the verifier has no secret; nothing can be verified.
	ErrNoSecret = errors.New("no signing secret configured")
)

// Sign computes the MAC: HMAC-SHA256 of "<timestamp>.<body>" keyed with secret.
func Sign(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// HeaderValue is the X-S1C-Signature value for timestamp and body: "sha256=<hex>".
func HeaderValue(secret []byte, timestamp string, body []byte) string {
	return Scheme + hex.EncodeToString(Sign(secret, timestamp, body))
}

// SetHeaders signs body at now and sets X-S1C-Timestamp and X-S1C-Signature on h.
func SetHeaders(h http.Header, secret []byte, now time.Time, body []byte) {
	ts := strconv.FormatInt(now.Unix(), 10)
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, HeaderValue(secret, ts, body))
}

// Verify checks a signed request: the two header values as received, the raw body, the
// verifier's clock and the allowed skew either way (<= 0 means DefaultMaxSkew). It returns
// nil when the signature is valid, else an error saying what is wrong (which header is
// missing or malformed, how far off the clock is), wrapping one of the Err* values. The
// messages never contain the secret or the expected MAC, so they may be returned to the
// caller.
func Verify(secret []byte, timestampHeader, signatureHeader string, body []byte, now time.Time, maxSkew time.Duration) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	ts, sig := strings.TrimSpace(timestampHeader), strings.TrimSpace(signatureHeader)
	switch {
	case ts == "" && sig == "":
		return fmt.Errorf("%w: send %s and %s", ErrMissing, TimestampHeader, SignatureHeader)
	case ts == "":
		return fmt.Errorf("%w: %s", ErrMissing, TimestampHeader)
	case sig == "":
		return fmt.Errorf("%w: %s", ErrMissing, SignatureHeader)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s must be unix seconds, got %.40q", ErrMalformed, TimestampHeader, ts)
	}
	if skew := now.Sub(time.Unix(secs, 0)); skew > maxSkew || skew < -maxSkew {
		dir := "behind"
		if skew < 0 {
			dir, skew = "ahead of", -skew
		}
		return fmt.Errorf("%w: %s is %s %s the verifier's clock (at most %s allowed): check the sender's clock, or a replayed request",
			ErrSkew, TimestampHeader, skew.Round(time.Second), dir, maxSkew)
	}
	hexMAC, ok := strings.CutPrefix(sig, Scheme)
	if !ok {
		return fmt.Errorf("%w: %s must be %s<hex>", ErrMalformed, SignatureHeader, Scheme)
	}
	got, err := hex.DecodeString(hexMAC)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: %s must be %s<64 hex digits>", ErrMalformed, SignatureHeader, Scheme)
	}
	if !hmac.Equal(got, Sign(secret, ts, body)) {
		return fmt.Errorf("%w: the MAC does not match (a different secret, or the body or timestamp changed in transit)", ErrMismatch)
	}
	return nil
}

// VerifyRequest is Verify on r's headers.
func VerifyRequest(secret []byte, r *http.Request, body []byte, now time.Time, maxSkew time.Duration) error {
	return Verify(secret, r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), body, now, maxSkew)
}
