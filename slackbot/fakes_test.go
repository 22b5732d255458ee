package slackbot_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/slackbot/messages"
	"github.com/s1copilot/s1copilot/tools/fakeslack"
	"github.com/s1copilot/s1copilot/workflows"
)

// Secrets of the tests: none may show in a log, an answer or the audit log.
const (
	signingSecret = "8f14e45fceea167a5a36dedd4bea2543"
	botToken      = "xoxb-1111-2222-test-bot-token"
	channel       = "C0SOC"
	messageTS     = "1700000000.000200"
	team          = "T0001"
)

// Threats of the fake investigations.
const (
	threatPending  = "1910000000000000101" // waits for kill and quarantine
	threatDeadline = "1910000000000000102" // its deadline passed, no decision
	threatFinished = "1910000000000000103" // finished: mitigated
	threatNoWorker = "1910000000000000104" // no worker answers
)

// Slack users: alice and carol hold roles (carol through identity.slackUsers, lead),
// bob's e-mail is in no role, ghost is unknown to Slack and the policy, nomail has no
// visible e-mail.
const (
	alice  = "U0ALICE"
	bob    = "U0BOB"
	carol  = "U0CAROL"
	ghost  = "U0GHOST"
	nomail = "U0NOMAIL"
)

func testPolicy() *policy.Policy {
	return &policy.Policy{
		Version: "test",
		Roles: map[string][]string{
			"analyst": {"alice@example.com", "carol@example.com"},
			"lead":    {"carol@example.com"},
		},
		KillSwitchRoles: []string{"lead"},
		Identity:        policy.Identity{SlackUsers: map[string]string{carol: "carol@example.com"}},
	}
}

// sent is one decision the fake investigations received.
type sent struct {
	ThreatID string
	Decision workflows.Decision
}

// fakeInvestigations answers like the investigation workflow: the first valid
// decision wins, the same request ID again is the same decision, a finished
// investigation is not found, the policy's roles decide who may.
type fakeInvestigations struct {
	mu       sync.Mutex
	status   map[string]*workflows.Status
	finished map[string]bool
	noWorker map[string]bool
	policy   *policy.Policy
	calls    []sent
	recorded []sent
	pending  []workflows.PendingInvestigation
}

func newFakeInvestigations(p *policy.Policy) *fakeInvestigations {
	now := time.Now()
	f := &fakeInvestigations{policy: p, status: map[string]*workflows.Status{},
		finished: map[string]bool{threatFinished: true}, noWorker: map[string]bool{threatNoWorker: true}}
	plan := &policy.Plan{Steps: []policy.Step{
		{Action: investigation.ActionKill, Disposition: policy.Approve, Reason: "servers need a human"},
		{Action: investigation.ActionQuarantine, Disposition: policy.Approve, Reason: "servers need a human"},
	}}
	for _, id := range []string{threatPending, threatNoWorker} {
		f.status[id] = &workflows.Status{ThreatID: id, Stage: workflows.StageAwaitingApproval, Plan: plan,
			AwaitingApproval: []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine},
			ApprovalDeadline: now.Add(23 * time.Hour),
			Analysis:         &investigation.Analysis{Verdict: investigation.VerdictTruePositive, Confidence: 0.93, Priority: investigation.PriorityHigh}}
	}
	f.status[threatDeadline] = &workflows.Status{ThreatID: threatDeadline, Stage: workflows.StageReporting, Plan: plan,
		ApprovalDeadline: now.Add(-time.Hour)}
	f.status[threatFinished] = &workflows.Status{ThreatID: threatFinished, Stage: workflows.StageDone, Outcome: workflows.OutcomeMitigated}
	f.pending = []workflows.PendingInvestigation{{ThreatID: threatPending, AgentName: "web-01", Verdict: "true_positive", Priority: "high", StartedAt: now.Add(-2 * time.Hour)}}
	return f
}

func (f *fakeInvestigations) Approve(ctx context.Context, threatID string, d workflows.Decision, o workflows.DecideOptions) (string, error) {
	d.Approved = true
	return f.decide(threatID, d)
}

func (f *fakeInvestigations) Reject(ctx context.Context, threatID string, d workflows.Decision, o workflows.DecideOptions) (string, error) {
	d.Approved, d.Actions = false, nil
	return f.decide(threatID, d)
}

func (f *fakeInvestigations) decide(threatID string, d workflows.Decision) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, sent{threatID, d})
	st := f.status[threatID]
	switch {
	case f.noWorker[threatID]:
		return "", fmt.Errorf("%s: %w", workflows.WorkflowID(threatID), workflows.ErrNoWorkerAnswered)
	case st == nil || f.finished[threatID]:
		return "", fmt.Errorf("deciding %s: %w", workflows.WorkflowID(threatID), serviceerror.NewNotFound("workflow execution already completed"))
	case st.Decision != nil && st.Decision.RequestID == d.RequestID:
		return "recorded", nil
	case st.Decision != nil:
		return "", &workflows.RefusedError{Reason: "already decided by " + st.Decision.Approver}
	case st.Stage != workflows.StageAwaitingApproval:
		return "", &workflows.RefusedError{Reason: fmt.Sprintf("not awaiting approval (stage is %s)", st.Stage)}
	}
	if err := f.policy.Authorize(d.Approver, nil); err != nil {
		return "", &workflows.RefusedError{Reason: err.Error()}
	}
	st.Decision = &d
	st.Stage, st.AwaitingApproval = workflows.StageMitigating, nil
	f.recorded = append(f.recorded, sent{threatID, d})
	return "recorded", nil
}

func (f *fakeInvestigations) Status(ctx context.Context, threatID string) (workflows.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.status[threatID]
	if st == nil {
		return workflows.Status{}, fmt.Errorf("querying %s: %w", workflows.WorkflowID(threatID), serviceerror.NewNotFound("workflow not found"))
	}
	return *st, nil
}

func (f *fakeInvestigations) Pending(ctx context.Context, _ workflows.PendingFilter) ([]workflows.PendingInvestigation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending, nil
}

func (f *fakeInvestigations) Calls() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.calls...)
}

func (f *fakeInvestigations) Recorded() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.recorded...)
}

// fakeKillSwitch is the control workflow's kill switch.
type fakeKillSwitch struct {
	mu    sync.Mutex
	calls []control.KillSwitchRequest
}

func (k *fakeKillSwitch) SetKillSwitch(ctx context.Context, r control.KillSwitchRequest) (control.State, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, r)
	return control.State{KillSwitch: r.On, KillSwitchBy: r.Actor, KillSwitchReason: r.Reason, KillSwitchAt: time.Now()}, nil
}

func (k *fakeKillSwitch) Calls() []control.KillSwitchRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]control.KillSwitchRequest(nil), k.calls...)
}

// auditLog is an audit.Writer (validation and secret guard included) the test reads.
type auditLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
	w   *audit.Writer
}

func (a *auditLog) Write(ctx context.Context, r audit.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.Write(ctx, r)
}

func (a *auditLog) Records(t *testing.T) []audit.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []audit.Record
	sc := bufio.NewScanner(bytes.NewReader(a.buf.Bytes()))
	for sc.Scan() {
		var r audit.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		out = append(out, r)
	}
	return out
}

func (a *auditLog) Text() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.String()
}

// harness is a bot on a fake Slack, fake investigations and a fake kill switch,
// served over HTTP.
type harness struct {
	t     *testing.T
	bot   *slackbot.Bot
	srv   *httptest.Server
	slack *fakeslack.Server
	api   *httptest.Server
	inv   *fakeInvestigations
	ks    *fakeKillSwitch
	hunts *fakeHunts
	audit *auditLog
	key   ed25519.PrivateKey
	logs  *observer.ObservedLogs
	pol   *policy.Policy
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, pol: testPolicy(), ks: &fakeKillSwitch{}, hunts: &fakeHunts{}}
	h.slack = fakeslack.New(botToken,
		fakeslack.User{ID: alice, Name: "alice", Email: "alice@example.com"},
		fakeslack.User{ID: bob, Name: "bob", Email: "bob@example.com"},
		fakeslack.User{ID: nomail, Name: "nomail"})
	h.api = httptest.NewServer(h.slack)
	t.Cleanup(h.api.Close)
	h.inv = newFakeInvestigations(h.pol)
	_, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	h.key = key
	core, logs := observer.New(zapcore.DebugLevel)
	h.logs = logs
	h.audit = &auditLog{}
	h.audit.w = audit.NewWriter(&h.audit.buf)
	h.audit.w.Deny = []string{signingSecret, botToken}
	apiURL, _ := url.Parse(h.api.URL)
	h.bot, err = slackbot.New(slackbot.Options{
		Slack:          slack.New(botToken, slack.OptionAPIURL(h.api.URL+"/api/")),
		Investigations: h.inv, KillSwitch: h.ks, Hunts: h.hunts, Policy: slackbot.StaticPolicy{Policy: h.pol}, Audit: h.audit,
		Key: key, SigningSecret: config.Secret(signingSecret), Logger: zap.New(core),
		ResponseHosts: []string{apiURL.Host},
	})
	require.NoError(t, err)
	h.srv = httptest.NewServer(h.bot.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

// request is an HTTP request to the bot, signed as Slack signs.
type request struct {
	path   string
	body   string
	ts     time.Time
	secret string
}

func (h *harness) signed(path, body string) request {
	return request{path: path, body: body, ts: time.Now(), secret: signingSecret}
}

func sign(secret, ts, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// send posts r and returns the answer's status and body; the work it set off is done
// when send returns.
func (h *harness) send(r request) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+r.path, strings.NewReader(r.body))
	require.NoError(h.t, err)
	ts := strconv.FormatInt(r.ts.Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sign(r.secret, ts, r.body))
	return h.do(req)
}

func (h *harness) do(req *http.Request) (int, string) {
	h.t.Helper()
	resp, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	h.bot.Wait()
	return resp.StatusCode, string(b)
}

// interaction is the form body Slack posts for an interaction payload.
func interaction(payload map[string]any) string {
	b, _ := json.Marshal(payload)
	return url.Values{"payload": {string(b)}}.Encode()
}

// click is Slack's block_actions payload for a button of the investigation's message.
func click(user, actionID, threatID, actionTS string) map[string]any {
	return map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team}, "user": map[string]any{"id": user, "username": user},
		"api_app_id": "A0APP", "trigger_id": "trigger-" + actionTS, "channel": map[string]any{"id": channel},
		"container": map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel},
		"message":   map[string]any{"ts": messageTS, "type": "message"},
		"actions": []any{map[string]any{"action_id": actionID, "block_id": messages.ActionsBlock, "value": threatID,
			"type": "button", "action_ts": actionTS, "text": map[string]any{"type": "plain_text", "text": "Approve"}}},
	}
}

// submission is Slack's view_submission payload of a modal.
func submission(user, viewID, callbackID string, meta slackbot.ModalMeta, actions []string, reason string) map[string]any {
	values := map[string]any{
		messages.BlockReason: map[string]any{messages.InputReason: map[string]any{"type": "plain_text_input", "value": reason}},
	}
	if callbackID == messages.ModalApproveSome {
		var sel []any
		for _, a := range actions {
			sel = append(sel, map[string]any{"value": a, "text": map[string]any{"type": "plain_text", "text": a}})
		}
		values[messages.BlockActions] = map[string]any{messages.InputActions: map[string]any{"type": "checkboxes", "selected_options": sel}}
	}
	metaJSON, _ := json.Marshal(meta)
	return map[string]any{
		"type": "view_submission", "team": map[string]any{"id": team}, "user": map[string]any{"id": user},
		"api_app_id": "A0APP", "trigger_id": "trigger-" + viewID,
		"view": map[string]any{"id": viewID, "type": "modal", "callback_id": callbackID, "private_metadata": string(metaJSON),
			"hash": "h-" + viewID, "state": map[string]any{"values": values}},
	}
}

// command is the form body Slack posts for /s1copilot.
func (h *harness) command(user, text string) string {
	return url.Values{
		"team_id": {team}, "channel_id": {channel}, "user_id": {user}, "command": {"/s1copilot"}, "text": {text},
		"response_url": {h.api.URL + fakeslack.ResponsePath + "T0001/" + user}, "trigger_id": {"trigger-cmd-" + user + "-" + text},
	}.Encode()
}

// ephemeralsTo returns the texts of the ephemeral messages user got.
func (h *harness) ephemeralsTo(user string) []string {
	var out []string
	for _, e := range h.slack.Ephemerals() {
		if e.User == user {
			out = append(out, e.Text)
		}
	}
	return out
}

// verifySignature checks a decision the bot signed, as the investigation will.
func (h *harness) verifySignature(s sent) error {
	return identity.Verify(h.key.Public().(ed25519.PublicKey), s.Decision.Statement(workflows.WorkflowID(s.ThreatID)), s.Decision.Signature)
}

func meta(threatID string) slackbot.ModalMeta {
	return slackbot.ModalMeta{ThreatID: threatID, Channel: channel, MessageTS: messageTS}
}

func replaceQuery(t *testing.T, body, key, value string) string {
	t.Helper()
	v, err := url.ParseQuery(body)
	require.NoError(t, err)
	v.Set(key, value)
	return v.Encode()
}
