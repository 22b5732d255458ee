package integration

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/tools/fakeslack"
	"github.com/s1copilot/s1copilot/workflows"
)

const (
	slackToken  = "xoxb-integration"
	slackSecret = "integration-signing-secret"
	// macroThreatID waits for the approval of its isolation in the demo scenario.
	macroThreatID = "1910000000000000002"
)

// slackStack is a stack whose worker posts to a fake Slack, with the bot in front of
// it as Slack would reach it.
type slackStack struct {
	*stack
	fake   *fakeslack.Server
	botURL string
	botLog *syncBuffer
}

func newSlackStack(t *testing.T, retryFor time.Duration) *slackStack {
	fake := fakeslack.New(slackToken, fakeslack.User{ID: "U0ALICE", Name: "alice", Email: "alice@example.com"})
	slackSrv := httptest.NewServer(fake)
	t.Cleanup(slackSrv.Close)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	s := newStack(t, stackOptions{config: func(c *config.Config) {
		c.Slack.BotToken, c.Slack.Channel, c.Slack.APIURL = slackToken, "C0SOC", slackSrv.URL+"/api/"
		c.Slack.WebUIURL, c.Slack.BotPublicKey, c.Slack.RetryFor = "http://127.0.0.1:8233", identity.FormatPublicKey(pub), retryFor
	}})
	botLog := &syncBuffer{}
	bot, err := slackbot.New(slackbot.Options{
		Slack:          slack.New(slackToken, slack.OptionAPIURL(slackSrv.URL+"/api/")),
		Investigations: s.inv, KillSwitch: s.control(),
		Policy: slackbot.StaticPolicy{Policy: s.acts.Settings.Policy},
		Audit:  audit.NewWriter(botLog), Key: priv, SigningSecret: slackSecret,
	})
	require.NoError(t, err)
	botSrv := httptest.NewServer(bot.Handler())
	t.Cleanup(func() { botSrv.Close(); bot.Wait() })
	return &slackStack{stack: s, fake: fake, botURL: botSrv.URL, botLog: botLog}
}

// message is the investigation's top-level message, if posted.
func (s *slackStack) message(threatID string) (fakeslack.Message, bool) {
	for _, m := range s.fake.Messages() {
		if m.ThreadTS == "" && strings.Contains(string(m.Metadata), `"threat_id":"`+threatID+`"`) {
			return m, true
		}
	}
	return fakeslack.Message{}, false
}

func (s *slackStack) click(t *testing.T, threatID, ts string, n int) {
	now := time.Now()
	c := fakeslack.Click{Team: "T0", User: "U0ALICE", UserName: "alice", ActionID: "s1c_approve", Value: threatID, Channel: "C0SOC",
		MessageTS: ts, TriggerID: fmt.Sprintf("trigger.%d", n), ActionTS: fmt.Sprintf("%d.%06d", now.Unix(), n)}
	resp, err := fakeslack.Post(http.DefaultClient, s.botURL+"/slack/interactions", slackSecret, c.Form(), now)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestApproveFromSlackEndToEnd(t *testing.T) {
	s := newSlackStack(t, time.Minute)
	s.startPoller()

	var msg fakeslack.Message
	waitUntil(t, s.ctx, "the investigation's message has live buttons", func() bool {
		m, ok := s.message(macroThreatID)
		msg = m
		return ok && strings.Contains(string(m.Blocks), `"s1c_approve"`)
	})
	text := fakeslack.Render(msg.Blocks)
	for _, want := range []string{"invoice", "SALES-LT-042", "Waiting for approval", "isolate", "[Approve]", "[Reject…]", "Investigation in Temporal"} {
		assert.Contains(t, text, want)
	}

	s.click(t, macroThreatID, msg.TS, 1)
	res := s.result(macroThreatID)
	require.Equal(t, workflows.OutcomeMitigated, res.Outcome)
	require.NotNil(t, res.Decision)
	assert.Equal(t, "alice@example.com", res.Decision.Approver, "the approver is alice's verified e-mail, not a claimed name")
	assert.Equal(t, identity.MethodSlack, res.Decision.Identity)
	assert.Equal(t, "slack", res.Decision.Channel)
	assert.Empty(t, res.Slack)

	// A second click (a double click, a colleague) changes nothing and is told so.
	s.click(t, macroThreatID, msg.TS, 2)
	waitUntil(t, s.ctx, "the second click is answered", func() bool { return len(s.fake.Ephemerals()) > 1 })
	assert.Contains(t, s.fake.Ephemerals()[0].Text, "Approved", "the first click is confirmed to alice alone")
	assert.Regexp(t, "already decided|has finished", s.fake.Ephemerals()[1].Text, "nothing changes, and the clicker is told why")
	assert.Contains(t, s.fake.Ephemerals()[1].Text, "alice@example.com")

	final, _ := s.message(macroThreatID)
	text = fakeslack.Render(final.Blocks)
	for _, want := range []string{"Approved by alice@example.com (identity: slack)", "isolate: success", "Outcome: mitigated"} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, string(final.Blocks), `"s1c_approve"`, "no buttons once decided")
	posted := 0
	for _, m := range s.fake.Messages() {
		if m.ThreadTS == "" && strings.Contains(string(m.Metadata), macroThreatID) {
			posted++
		}
	}
	assert.Equal(t, 1, posted, "one message, updated, never posted twice")
	s.replayAndMaybeSave(t, macroThreatID, "slack-approved.json")
	assert.Contains(t, s.botLog.String(), `"kind":"slack_request"`)
	assert.NotContains(t, s.botLog.String(), slackToken)
	assert.NotContains(t, s.botLog.String(), slackSecret)
	history := s.historyText(t, macroThreatID)
	assert.Contains(t, history, "alice@example.com", "the history holds the decision (decoded payloads)")
	for _, secret := range []string{slackToken, slackSecret} {
		assert.NotContains(t, history, secret, "no Slack secret in workflow history")
	}
}

func TestSlackDownForTheWholeRun(t *testing.T) {
	s := newSlackStack(t, 5*time.Second)
	s.fake.SetDown(true)
	s.startPoller()
	waitUntil(t, s.ctx, "the investigation waits for approval", func() bool {
		st, running := s.stage(macroThreatID)
		return running && st == string(workflows.StageAwaitingApproval)
	})
	_, err := s.inv.Approve(s.ctx, macroThreatID, workflows.Decision{Approver: "alice@example.com", Reason: "Slack is down; approved by CLI"}, workflows.DecideOptions{})
	require.NoError(t, err)
	res := s.result(macroThreatID)
	assert.Equal(t, workflows.OutcomeMitigated, res.Outcome, "Slack down never blocks an investigation")
	assert.Contains(t, res.Slack, "could not be posted")
	assert.NotEmpty(t, s.fake.Calls("chat.postMessage"), "it tried")
	assert.Empty(t, s.fake.Messages())
}
