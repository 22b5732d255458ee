package slackbot_test

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// No secret (signing secret, bot token, the bot's key) shows in a log line, an
// answer, a message or the audit log, whatever happens.
func TestSecretsNeverShow(t *testing.T) {
	h := newHarness(t)
	var answers []string
	keep := func(_ int, body string) { answers = append(answers, body) }

	bad := h.signed(slackbot.PathInteractions, approveBody())
	bad.secret = "wrong"
	keep(h.send(bad))
	keep(h.send(h.signed(slackbot.PathInteractions, "payload=%7B")))
	keep(h.clickButton(alice, messages.ActionApprove, threatPending, "1.1"))
	keep(h.clickButton(alice, messages.ActionApprove, threatPending, "1.2"))
	keep(h.clickButton(ghost, messages.ActionReject, threatPending, "1.3"))
	keep(h.clickButton(bob, messages.ActionApprove, threatNoWorker, "1.4"))
	keep(h.send(h.signed(slackbot.PathCommands, h.command(alice, "kill-switch on test"))))
	keep(h.send(h.signed(slackbot.PathCommands, h.command(carol, "status "+threatFinished))))
	h.slack.SetDown(true)
	keep(h.clickButton(alice, messages.ActionApproveSome, threatPending, "1.5"))
	keep(h.send(h.signed(slackbot.PathCommands, h.command(carol, "pending"))))
	h.slack.SetDown(false)

	var seen strings.Builder
	for _, e := range h.logs.All() {
		fmt.Fprintln(&seen, e.Message, e.ContextMap())
	}
	seen.WriteString(h.audit.Text())
	for _, a := range answers {
		seen.WriteString(a)
	}
	for _, e := range h.slack.Ephemerals() {
		seen.WriteString(e.Text)
	}
	for _, r := range h.slack.Responses() {
		seen.WriteString(r.Text)
	}
	for _, v := range h.slack.Views() {
		seen.Write(v)
	}
	assert.NotEmpty(t, h.logs.All())
	assert.NotEmpty(t, h.audit.Records(t))
	for name, secret := range map[string]string{
		"signing secret": signingSecret, "bot token": botToken,
		"key (base64)": base64.StdEncoding.EncodeToString(h.key), "key seed (base64)": base64.StdEncoding.EncodeToString(h.key.Seed()),
		"key seed (hex)": hex.EncodeToString(h.key.Seed()),
	} {
		assert.NotContains(t, seen.String(), secret, name)
	}
}
