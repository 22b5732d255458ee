package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/handoff/handofftest"
	"github.com/s1copilot/s1copilot/signature"
)

var secret = []byte("hand-off-SECRET-0123456789abcdef0123")

// errorTexts collects every error a test saw, to check none carries the secret.
type errorTexts struct {
	mu   sync.Mutex
	errs []string
}

func (e *errorTexts) add(err error) error {
	if err != nil {
		e.mu.Lock()
		e.errs = append(e.errs, err.Error())
		e.mu.Unlock()
	}
	return err
}

func (e *errorTexts) assertNoSecret(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	require.NotEmpty(t, e.errs)
	for _, s := range e.errs {
		assert.NotContains(t, s, string(secret))
	}
}

func newReceiver(t *testing.T, wrap func(http.Handler) http.Handler) (*handofftest.Receiver, *httptest.Server) {
	rv := handofftest.NewReceiver(secret)
	var h http.Handler = rv
	if wrap != nil {
		h = wrap(rv)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return rv, srv
}

func deliveryError(t *testing.T, err error) *handoff.DeliveryError {
	t.Helper()
	var de *handoff.DeliveryError
	require.ErrorAs(t, err, &de)
	return de
}

func TestSendSignedOpensOneTicketPerCase(t *testing.T) {
	rv, srv := newReceiver(t, nil)
	s := &handoff.Sender{URL: srv.URL + "/cases", Secret: secret}
	ctx := context.Background()

	r, err := s.Send(ctx, triageCase(), "s1-threat/1910000000000000002/triage")
	require.NoError(t, err)
	assert.Equal(t, handoff.Receipt{Status: 200, TicketID: "TICKET-1"}, r)

	// The outcome of the same case updates the same ticket; another case opens another.
	r, err = s.Send(ctx, outcomeCase(), "s1-threat/1910000000000000002/outcome")
	require.NoError(t, err)
	assert.Equal(t, "TICKET-1", r.TicketID)
	other := triageCase()
	other.CaseID, other.Threat.ID = "s1-threat/1910000000000000003", "1910000000000000003"
	r, err = s.Send(ctx, other, "s1-threat/1910000000000000003/triage")
	require.NoError(t, err)
	assert.Equal(t, "TICKET-2", r.TicketID)

	got := rv.Deliveries()
	require.Len(t, got, 3)
	assert.Equal(t, "triage", got[0].Event)
	assert.Equal(t, "outcome", got[1].Event)
	assert.Equal(t, outcomeCase(), got[1].Case, "the receiver decodes exactly what was sent")
	assert.Empty(t, rv.Rejections())
}

func TestSendSetsHeaders(t *testing.T) {
	var h http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h = r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	at := time.Unix(1_750_000_000, 0)
	s := &handoff.Sender{URL: srv.URL, Secret: secret, Now: func() time.Time { return at }}
	r, err := s.Send(context.Background(), outcomeCase(), "key-1")
	require.NoError(t, err)
	assert.Equal(t, handoff.Receipt{Status: 204}, r, "no body: delivered, no ticket")
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	assert.Equal(t, "key-1", h.Get("Idempotency-Key"))
	assert.Equal(t, "outcome", h.Get("X-S1C-Event"))
	assert.Equal(t, "1", h.Get("X-S1C-Schema-Version"))
	assert.Equal(t, "1750000000", h.Get("X-S1C-Timestamp"))
	assert.NoError(t, signature.Verify(secret, h.Get("X-S1C-Timestamp"), h.Get("X-S1C-Signature"), body, at, time.Minute))
	assert.NoError(t, handofftest.Validate(body))

	// Without a secret: unsigned.
	_, err = (&handoff.Sender{URL: srv.URL}).Send(context.Background(), triageCase(), "key-2")
	require.NoError(t, err)
	assert.Empty(t, h.Get("X-S1C-Signature"))
	assert.Empty(t, h.Get("X-S1C-Timestamp"))
}

func TestSendRefusedCredentialsIsPermanent(t *testing.T) {
	var seen errorTexts
	rv, srv := newReceiver(t, nil)
	for name, s := range map[string]*handoff.Sender{
		"wrong secret": {URL: srv.URL, Secret: []byte("not-the-receivers-secret-0123456789")},
		"unsigned":     {URL: srv.URL},
		"stale clock":  {URL: srv.URL, Secret: secret, Now: func() time.Time { return time.Now().Add(-time.Hour) }},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Send(context.Background(), triageCase(), "k-"+strings.ReplaceAll(name, " ", "-"))
			seen.add(err)
			de := deliveryError(t, err)
			assert.Equal(t, http.StatusUnauthorized, de.Status)
			assert.False(t, de.Retryable)
			assert.False(t, handoff.IsRetryable(err))
			assert.Contains(t, err.Error(), "S1C_HANDOFF_SECRET", "says what to fix")
			assert.Contains(t, err.Error(), "receiver said", "says what the receiver said")
		})
	}
	assert.Empty(t, rv.Deliveries())
	assert.Len(t, rv.Rejections(), 3)
	seen.assertNoSecret(t)
}

func TestSendRetriesUnavailableWithTheSameKey(t *testing.T) {
	rv, srv := newReceiver(t, nil)
	rv.FailNext(2, 0)
	s := &handoff.Sender{URL: srv.URL, Secret: secret}
	const key = "s1-threat/1910000000000000002/triage"
	for range 2 {
		_, err := s.Send(context.Background(), triageCase(), key)
		de := deliveryError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, de.Status)
		assert.True(t, de.Retryable)
		assert.True(t, handoff.IsRetryable(err))
		assert.Equal(t, time.Second, de.RetryAfter, "Retry-After honoured")
	}
	r, err := s.Send(context.Background(), triageCase(), key)
	require.NoError(t, err)
	assert.Equal(t, "TICKET-1", r.TicketID)
	assert.False(t, r.Duplicate)
	assert.Equal(t, 1, rv.DeliveriesFor(key))
	assert.Equal(t, 3, rv.Requests())
}

func TestSendTooManyRequests(t *testing.T) {
	rv, srv := newReceiver(t, nil)
	rv.FailNext(1, http.StatusTooManyRequests)
	_, err := (&handoff.Sender{URL: srv.URL, Secret: secret}).Send(context.Background(), triageCase(), "k")
	de := deliveryError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, de.Status)
	assert.True(t, de.Retryable)
	assert.Equal(t, time.Second, de.RetryAfter)

	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", at.Add(90*time.Second).Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv2.Close)
	_, err = (&handoff.Sender{URL: srv2.URL, Now: func() time.Time { return at }}).Send(context.Background(), triageCase(), "k")
	assert.Equal(t, 90*time.Second, deliveryError(t, err).RetryAfter, "HTTP-date form")
}

// dropFirstAnswer runs the receiver for the first request, then closes the connection
// instead of answering: the receiver processed the case, the sender saw an error.
func dropFirstAnswer(next http.Handler) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dropped := false
		once.Do(func() {
			next.ServeHTTP(httptest.NewRecorder(), r)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
				dropped = true
			}
		})
		if !dropped {
			next.ServeHTTP(w, r)
		}
	})
}

func TestSendAtMostOncePerKeyWhenTheAnswerIsLost(t *testing.T) {
	rv, srv := newReceiver(t, dropFirstAnswer)
	s := &handoff.Sender{URL: srv.URL, Secret: secret}
	const key = "s1-threat/1910000000000000002/triage"

	_, err := s.Send(context.Background(), triageCase(), key)
	de := deliveryError(t, err)
	assert.True(t, de.Retryable, "a lost answer is retried: %v", err)
	assert.Zero(t, de.Status)
	assert.Equal(t, 1, rv.DeliveriesFor(key), "the receiver did process it")

	r, err := s.Send(context.Background(), triageCase(), key)
	require.NoError(t, err)
	assert.Equal(t, handoff.Receipt{Status: 200, TicketID: "TICKET-1", Duplicate: true}, r)
	r, err = s.Send(context.Background(), triageCase(), key)
	require.NoError(t, err)
	assert.True(t, r.Duplicate)

	assert.Equal(t, 1, rv.DeliveriesFor(key), "at most once per key")
	assert.Equal(t, 2, rv.Duplicates(key))
	assert.Len(t, rv.Deliveries(), 1)

	// The same key for a different document is a sender bug, refused.
	other := triageCase()
	other.Summary = "something else"
	_, err = s.Send(context.Background(), other, key)
	assert.Equal(t, http.StatusUnprocessableEntity, deliveryError(t, err).Status)
	assert.Equal(t, 1, rv.DeliveriesFor(key))
}

func TestSendTicketIDs(t *testing.T) {
	var seen errorTexts
	for body, want := range map[string]any{
		`{"ticketId":"INC0012345"}`:             "INC0012345",
		`{"ticketId":12345}`:                    "12345",
		`{"ticketId":"SOC-7","duplicate":true}`: handoff.Receipt{Status: 200, TicketID: "SOC-7", Duplicate: true},
		`{"ticketId":null}`:                     "",
		`{"status":"queued"}`:                   "",
		``:                                      "",
		`accepted`:                              "",
		`["x"]`:                                 "",
		`{"ticketId":"TICKET-1\u0007"}`:         "contains control characters",
		`{"ticketId":"a\nb"}`:                   "contains control characters",
		`{"ticketId":""}`:                       "empty",
		`{"ticketId":"` + strings.Repeat("x", 129) + `"}`: "longer than 128",
		`{"ticketId":{"id":1}}`:                           "not a string",
		`{"ticketId":" padded "}`:                         "spaces",
	} {
		t.Run(body, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprint(w, body)
			}))
			defer srv.Close()
			r, err := (&handoff.Sender{URL: srv.URL, Secret: secret}).Send(context.Background(), triageCase(), "k")
			seen.add(err)
			switch want := want.(type) {
			case handoff.Receipt:
				require.NoError(t, err)
				assert.Equal(t, want, r)
			case string:
				if err == nil {
					assert.Equal(t, handoff.Receipt{Status: 200, TicketID: want}, r)
					return
				}
				var te *handoff.TicketIDError
				require.ErrorAs(t, err, &te)
				assert.Contains(t, err.Error(), want)
				assert.Contains(t, err.Error(), "fix the receiver")
				assert.False(t, handoff.IsRetryable(err), "a bad ticket ID is not retried")
				assert.Equal(t, 200, r.Status, "the case was delivered all the same")
				assert.Empty(t, r.TicketID)
				assert.NotContains(t, err.Error(), "\n", "control characters are quoted")
			}
		})
	}
	seen.assertNoSecret(t)
}

func TestSendPermanentRefusals(t *testing.T) {
	var seen errorTexts
	long := strings.Repeat("schema says no; ", 100)
	for status, says := range map[int]string{
		http.StatusBadRequest:          "case schema version 1",
		http.StatusUnprocessableEntity: "case schema version 1",
		http.StatusNotFound:            "check S1C_HANDOFF_URL",
		http.StatusForbidden:           "S1C_HANDOFF_SECRET",
		http.StatusGone:                "S1C_HANDOFF_URL",
	} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				// A careless receiver echoing what it got, signature headers and all.
				_, _ = fmt.Fprintf(w, "%s %v %s", long, r.Header, secret)
			}))
			defer srv.Close()
			_, err := (&handoff.Sender{URL: srv.URL + "/hook?token=abc", Secret: secret}).Send(context.Background(), triageCase(), "k")
			seen.add(err)
			de := deliveryError(t, err)
			assert.Equal(t, status, de.Status)
			assert.False(t, de.Retryable)
			assert.Contains(t, err.Error(), says)
			assert.Contains(t, err.Error(), "schema says no", "quotes the receiver")
			assert.Less(t, len(err.Error()), 1000, "truncated")
			assert.NotContains(t, err.Error(), "token=abc", "the URL's query stays out of errors")
		})
	}
	seen.assertNoSecret(t)
}

func TestSendRedirectIsNotFollowed(t *testing.T) {
	final := 0
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { final++ }))
	t.Cleanup(target.Close)
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(srv.Close)
	_, err := (&handoff.Sender{URL: srv.URL, Client: &http.Client{}}).Send(context.Background(), triageCase(), "k")
	de := deliveryError(t, err)
	assert.Equal(t, http.StatusFound, de.Status)
	assert.False(t, de.Retryable)
	assert.Contains(t, err.Error(), "final address")
	assert.Zero(t, final)
}

func TestSendNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := (&handoff.Sender{URL: url, Secret: secret}).Send(context.Background(), triageCase(), "k")
	de := deliveryError(t, err)
	assert.True(t, de.Retryable)
	assert.Zero(t, de.Status)
	assert.NotNil(t, errors.Unwrap(err))

	srv = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client hanging up
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = (&handoff.Sender{URL: srv.URL}).Send(ctx, triageCase(), "k")
	assert.True(t, handoff.IsRetryable(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestSendRefusesBeforeSending(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	t.Cleanup(srv.Close)
	bad := triageCase()
	bad.Verdict = "malicious"
	for name, tc := range map[string]struct {
		s   *handoff.Sender
		c   handoff.Case
		key string
	}{
		"invalid case":  {&handoff.Sender{URL: srv.URL}, bad, "k"},
		"empty key":     {&handoff.Sender{URL: srv.URL}, triageCase(), ""},
		"key with a LF": {&handoff.Sender{URL: srv.URL}, triageCase(), "a\nb"},
		"no URL":        {&handoff.Sender{}, triageCase(), "k"},
		"ftp URL":       {&handoff.Sender{URL: "ftp://x/"}, triageCase(), "k"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.s.Send(context.Background(), tc.c, tc.key)
			require.Error(t, err)
			assert.False(t, handoff.IsRetryable(err))
		})
	}
	assert.Zero(t, calls)
}
