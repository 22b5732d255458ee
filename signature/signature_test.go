package signature

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef-signing-secret")
	body   = []byte(`{"caseId":"s1-threat/1"}`)
	now    = time.Unix(1_750_000_000, 0)
)

func TestSignKnownVector(t *testing.T) {
	// HMAC-SHA256(key="key", "1.body"), computed independently (openssl dgst -sha256 -hmac key).
	got := HeaderValue([]byte("key"), "1", []byte("body"))
	const want = "sha256=91b5374b153842ad05b2c4eab9349b8321b14703165bd3fb8b034dfb8be98ae5"
	if got != want {
		t.Fatalf("HeaderValue = %q, want %q", got, want)
	}
}

func TestSetHeadersThenVerify(t *testing.T) {
	h := http.Header{}
	SetHeaders(h, secret, now, body)
	if got := h.Get(TimestampHeader); got != strconv.FormatInt(now.Unix(), 10) {
		t.Fatalf("timestamp header %q", got)
	}
	if err := Verify(secret, h.Get(TimestampHeader), h.Get(SignatureHeader), body, now.Add(time.Minute), 0); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	r, _ := http.NewRequest(http.MethodPost, "http://x/", nil)
	r.Header = h
	if err := VerifyRequest(secret, r, body, now, time.Minute); err != nil {
		t.Fatalf("VerifyRequest: %v", err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	h := http.Header{}
	SetHeaders(h, secret, now, body)
	ts, sig := h.Get(TimestampHeader), h.Get(SignatureHeader)
	for name, tc := range map[string]struct {
		secret  []byte
		ts, sig string
		body    []byte
		at      time.Time
		want    error
		says    string
	}{
		"no secret":         {nil, ts, sig, body, now, ErrNoSecret, "no signing secret"},
		"no headers":        {secret, "", "", body, now, ErrMissing, "X-S1C-Timestamp and X-S1C-Signature"},
		"no timestamp":      {secret, "", sig, body, now, ErrMissing, "X-S1C-Timestamp"},
		"no signature":      {secret, ts, "", body, now, ErrMissing, "X-S1C-Signature"},
		"timestamp not int": {secret, "yesterday", sig, body, now, ErrMalformed, "unix seconds"},
		"no scheme":         {secret, ts, strings.TrimPrefix(sig, Scheme), body, now, ErrMalformed, "sha256=<hex>"},
		"not hex":           {secret, ts, "sha256=zz", body, now, ErrMalformed, "64 hex digits"},
		"short MAC":         {secret, ts, "sha256=abcd", body, now, ErrMalformed, "64 hex digits"},
		"stale":             {secret, ts, sig, body, now.Add(10 * time.Minute), ErrSkew, "10m0s behind"},
		"future":            {secret, ts, sig, body, now.Add(-7 * time.Minute), ErrSkew, "7m0s ahead of"},
		"wrong secret":      {[]byte("another-secret-another-secret-0000"), ts, sig, body, now, ErrMismatch, "does not match"},
		"tampered body":     {secret, ts, sig, []byte(`{"caseId":"s1-threat/2"}`), now, ErrMismatch, "does not match"},
		"other timestamp":   {secret, strconv.FormatInt(now.Unix()+1, 10), sig, body, now, ErrMismatch, "does not match"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Verify(tc.secret, tc.ts, tc.sig, tc.body, tc.at, 5*time.Minute)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if strings.Contains(err.Error(), string(secret)) || strings.Contains(err.Error(), strings.TrimPrefix(sig, Scheme)) {
				t.Errorf("error %q leaks the secret or the MAC", err)
			}
		})
	}
}
