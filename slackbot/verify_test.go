package slackbot_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// assertRefused checks that a request was refused before anything happened: the
// status and reason, one audit record, and no decision, ephemeral or modal.
func (h *harness) assertRefused(status int, body string, wantStatus int, reason string) {
	h.t.Helper()
	assert.Equal(h.t, wantStatus, status)
	assert.Contains(h.t, body, reason)
	assert.Empty(h.t, h.inv.Calls(), "nothing reaches the investigations")
	assert.Empty(h.t, h.slack.Calls(), "nothing is sent to Slack")
	recs := h.audit.Records(h.t)
	if assert.Len(h.t, recs, 1) {
		r := recs[0]
		assert.Equal(h.t, audit.KindSlackRequest, r.Kind)
		assert.Equal(h.t, "refused", r.Decision)
		assert.Equal(h.t, "unknown", r.Actor)
		assert.Equal(h.t, "slack", r.Channel)
		assert.Equal(h.t, slackbot.ActUnverified, r.Action)
		assert.Contains(h.t, r.Reason, reason)
		assert.True(h.t, strings.HasPrefix(r.ID, "slackbot/slackbot/"), r.ID)
	}
}

func approveBody() string {
	return interaction(click(alice, messages.ActionApprove, threatPending, "1700000100.000001"))
}

func TestBadSignatureIsRefused(t *testing.T) {
	h := newHarness(t)
	r := h.signed(slackbot.PathInteractions, approveBody())
	r.secret = "not-the-signing-secret"
	status, body := h.send(r)
	h.assertRefused(status, body, http.StatusUnauthorized, "invalid Slack signature")
}

// A body altered after Slack signed it no longer matches the signature.
func TestTamperedBodyIsRefused(t *testing.T) {
	h := newHarness(t)
	r := h.signed(slackbot.PathInteractions, approveBody())
	ts := strconv.FormatInt(r.ts.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+r.path, strings.NewReader(strings.Replace(r.body, alice, bob, 1)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sign(signingSecret, ts, r.body))
	status, body := h.do(req)
	h.assertRefused(status, body, http.StatusUnauthorized, "invalid Slack signature")
}

func TestMissingSignatureIsRefused(t *testing.T) {
	h := newHarness(t)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+slackbot.PathCommands, strings.NewReader(h.command(alice, "pending")))
	require.NoError(t, err)
	status, body := h.do(req)
	h.assertRefused(status, body, http.StatusUnauthorized, "missing Slack signature headers")
}

func TestStaleTimestampIsRefused(t *testing.T) {
	for _, skew := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		h := newHarness(t)
		r := h.signed(slackbot.PathInteractions, approveBody())
		r.ts = time.Now().Add(skew)
		status, body := h.send(r)
		h.assertRefused(status, body, http.StatusUnauthorized, "stale Slack request timestamp")
	}
}

// The same signed request sent again (same timestamp and signature) is a replay.
func TestReplayedRequestIsRefused(t *testing.T) {
	h := newHarness(t)
	r := h.signed(slackbot.PathInteractions, approveBody())
	status, _ := h.send(r)
	require.Equal(t, http.StatusOK, status)
	status, body := h.send(r)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "replayed Slack request")
	assert.Len(t, h.inv.Calls(), 1, "only the first reaches the investigation")
	assert.Len(t, h.ephemeralsTo(alice), 1)
	recs := h.audit.Records(t)
	require.Len(t, recs, 2)
	assert.Equal(t, "accepted", recs[0].Decision)
	assert.Equal(t, "refused", recs[1].Decision)
	assert.Equal(t, slackbot.ActUnverified, recs[1].Action)
	assert.Contains(t, recs[1].Reason, "replayed")
}

func TestOversizedBodyIsRefusedBeforeVerifying(t *testing.T) {
	h := newHarness(t)
	big := "payload=" + strings.Repeat("x", 1<<20)
	status, body := h.send(h.signed(slackbot.PathInteractions, big))
	h.assertRefused(status, body, http.StatusRequestEntityTooLarge, "request body over 256 KiB")

	// Without a Content-Length (chunked), the read itself stops at the limit.
	h = newHarness(t)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+slackbot.PathCommands, struct{ *strings.Reader }{strings.NewReader(big)})
	require.NoError(t, err)
	req.ContentLength = -1
	status, body = h.do(req)
	h.assertRefused(status, body, http.StatusRequestEntityTooLarge, "request body over 256 KiB")
}

func TestHealthzAndMethods(t *testing.T) {
	h := newHarness(t)
	resp, err := h.srv.Client().Get(h.srv.URL + slackbot.PathHealth)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = h.srv.Client().Get(h.srv.URL + slackbot.PathInteractions)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Empty(t, h.inv.Calls())
}

// A signed request whose payload is not Slack's is answered 400 and audited.
func TestSignedButUnreadablePayload(t *testing.T) {
	h := newHarness(t)
	status, _ := h.send(h.signed(slackbot.PathInteractions, "payload=%7Bnot-json"))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Empty(t, h.inv.Calls())
	recs := h.audit.Records(t)
	require.Len(t, recs, 1)
	assert.Equal(t, "refused", recs[0].Decision)
	assert.Equal(t, slackbot.ActUnsupported, recs[0].Action)
}
