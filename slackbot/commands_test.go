package slackbot_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/tools/fakeslack"
)

// slash runs /s1copilot text as user and returns the acknowledgement (decoded) and
// the answers posted to the command's response_url.
func (h *harness) slash(user, text string) (ack map[string]any, answers []fakeslack.Response) {
	h.t.Helper()
	status, body := h.send(h.signed(slackbot.PathCommands, h.command(user, text)))
	require.Equal(h.t, http.StatusOK, status, body)
	if body != "" {
		require.NoError(h.t, json.Unmarshal([]byte(body), &ack), body)
	}
	return ack, h.slack.Responses()
}

func TestCommandHelpAndUnknown(t *testing.T) {
	h := newHarness(t)
	for _, text := range []string{"", "help"} {
		ack, answers := h.slash(alice, text)
		assert.Equal(t, "ephemeral", ack["response_type"])
		assert.Equal(t, slackbot.CommandUsage, ack["text"])
		assert.Empty(t, answers)
	}
	ack, _ := h.slash(alice, "frobnicate now")
	assert.Equal(t, "ephemeral", ack["response_type"])
	assert.Contains(t, ack["text"], "I do not know `frobnicate`")
	assert.Contains(t, ack["text"], "Usage:")
	r := h.lastRecord()
	assert.Equal(t, "refused", r.Decision)
	assert.Equal(t, "command frobnicate", r.Action)
	assert.Equal(t, "unknown subcommand", r.Reason)
	assert.Empty(t, r.ThreatID)
	assert.Equal(t, "slackbot", r.InvestigationID)
}

func TestCommandPending(t *testing.T) {
	h := newHarness(t)
	ack, answers := h.slash(alice, "pending")
	assert.Nil(t, ack, "acknowledged at once, answered after")
	require.Len(t, answers, 1)
	assert.Equal(t, "ephemeral", answers[0].ResponseType)
	assert.Equal(t, "T0001/"+alice, answers[0].ID)
	assert.Contains(t, answers[0].Text, "1 investigation(s) wait for a decision")
	assert.Contains(t, answers[0].Text, "threat `"+threatPending+"` on web-01: verdict true_positive, priority high, age 2h0m")
	r := h.lastRecord()
	assert.Equal(t, "accepted", r.Decision)
	assert.Equal(t, "alice@example.com", r.Actor)
	assert.Equal(t, "command pending", r.Action)

	// Investigations are the SOC's: bob holds no role.
	_, answers = h.slash(bob, "pending")
	require.Len(t, answers, 2)
	assert.Contains(t, answers[1].Text, "Refused:")
	assert.Contains(t, answers[1].Text, "is not in any role")
	assert.Equal(t, "refused", h.lastRecord().Decision)
}

func TestCommandStatus(t *testing.T) {
	h := newHarness(t)
	_, answers := h.slash(alice, "status "+threatPending)
	require.Len(t, answers, 1)
	text := answers[0].Text
	assert.Contains(t, text, "Threat `"+threatPending+"` (s1-threat/"+threatPending+"): stage awaiting-approval")
	assert.Contains(t, text, "Verdict true_positive (confidence 0.93), priority High")
	assert.Contains(t, text, "Waiting for approval: kill, quarantine, deadline")
	r := h.lastRecord()
	assert.Equal(t, "accepted", r.Decision)
	assert.Equal(t, threatPending, r.ThreatID)

	_, answers = h.slash(alice, "status 42")
	require.Len(t, answers, 2)
	assert.Equal(t, "Threat `42` has no investigation here.", answers[1].Text)

	ack, _ := h.slash(alice, "status")
	assert.Contains(t, ack["text"], "Say which threat")
	ack, _ = h.slash(alice, "status <!channel>")
	assert.Contains(t, ack["text"], "Say which threat")
	assert.Len(t, h.slack.Responses(), 2)
}

func TestCommandKillSwitch(t *testing.T) {
	h := newHarness(t)
	_, answers := h.slash(carol, "kill-switch on ransomware outbreak, hold everything")
	require.Len(t, answers, 1)
	assert.Equal(t, "Kill switch ON: every automatic action now waits for a human (set by carol@example.com: ransomware outbreak, hold everything).", answers[0].Text)
	assert.Equal(t, []control.KillSwitchRequest{{On: true, Actor: "carol@example.com", Reason: "ransomware outbreak, hold everything"}}, h.ks.Calls())
	r := h.lastRecord()
	assert.Equal(t, "accepted", r.Decision)
	assert.Equal(t, "command kill-switch on", r.Action)
	assert.Equal(t, "carol@example.com", r.Actor)

	_, answers = h.slash(carol, "kill-switch off outbreak contained")
	require.Len(t, answers, 2)
	assert.Contains(t, answers[1].Text, "Kill switch OFF")
	assert.Len(t, h.ks.Calls(), 2)
}

func TestCommandKillSwitchRefused(t *testing.T) {
	h := newHarness(t)
	// alice is an analyst, not in killSwitchRoles (lead).
	_, answers := h.slash(alice, "kill-switch on just because")
	require.Len(t, answers, 1)
	assert.Contains(t, answers[0].Text, "Refused:")
	assert.Contains(t, answers[0].Text, "may not settle the kill switch: only role lead may")
	r := h.lastRecord()
	assert.Equal(t, "refused", r.Decision)
	assert.Equal(t, "alice@example.com", r.Actor)

	// An unmapped user is refused before any role is looked at.
	_, answers = h.slash(ghost, "kill-switch on hmm")
	require.Len(t, answers, 2)
	assert.Contains(t, answers[1].Text, "I cannot tell which approver you are")
	assert.Equal(t, ghost, h.lastRecord().Actor)

	// Without on|off and a reason it is only usage.
	ack, _ := h.slash(carol, "kill-switch on")
	assert.Contains(t, ack["text"], "kill-switch on|off REASON")
	ack, _ = h.slash(carol, "kill-switch maybe later")
	assert.Contains(t, ack["text"], "kill-switch on|off REASON")

	assert.Empty(t, h.ks.Calls(), "the kill switch never moved")
}

// A response_url the bot does not trust gets nothing: the answer goes by chat.postEphemeral.
func TestCommandAnswerOnlyToSlackResponseURLs(t *testing.T) {
	h := newHarness(t)
	body := h.command(alice, "pending")
	body = replaceQuery(t, body, "response_url", "https://attacker.example/collect")
	status, _ := h.send(h.signed(slackbot.PathCommands, body))
	require.Equal(t, http.StatusOK, status)
	assert.Empty(t, h.slack.Responses())
	eph := h.ephemeralsTo(alice)
	require.Len(t, eph, 1)
	assert.Contains(t, eph[0], "wait for a decision")
}
