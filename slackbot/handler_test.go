package slackbot_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/slackbot/messages"
	"github.com/s1copilot/s1copilot/workflows"
)

// clickButton sends user's click on a button of the message and returns the answer.
func (h *harness) clickButton(user, actionID, threatID, actionTS string) (int, string) {
	h.t.Helper()
	return h.send(h.signed(slackbot.PathInteractions, interaction(click(user, actionID, threatID, actionTS))))
}

// lastRecord returns the last audit record written, checking the fields every
// slack_request record has.
func (h *harness) lastRecord() audit.Record {
	h.t.Helper()
	recs := h.audit.Records(h.t)
	require.NotEmpty(h.t, recs)
	r := recs[len(recs)-1]
	assert.Equal(h.t, audit.KindSlackRequest, r.Kind)
	assert.Equal(h.t, "slack", r.Channel)
	return r
}

func TestApprove(t *testing.T) {
	h := newHarness(t)
	status, body := h.clickButton(alice, messages.ActionApprove, threatPending, "1700000100.000001")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, body, "Slack is answered at once, with nothing")

	rec := h.inv.Recorded()
	require.Len(t, rec, 1)
	d := rec[0].Decision
	assert.Equal(t, threatPending, rec[0].ThreatID)
	assert.True(t, d.Approved)
	assert.Equal(t, "alice@example.com", d.Approver)
	assert.Equal(t, slackbot.ApproveReason, d.Reason)
	assert.Empty(t, d.Actions, "every pending action")
	assert.Equal(t, "slack", d.Channel)
	assert.Equal(t, alice, d.SlackUser)
	assert.Equal(t, identity.SlackBotSigner, d.Signer)
	assert.False(t, d.SignedAt.IsZero())
	assert.True(t, strings.HasPrefix(d.RequestID, "slack-"), d.RequestID)
	require.NoError(t, h.verifySignature(rec[0]), "the investigation accepts the bot's signature")

	assert.Equal(t, []string{"Approved: every pending action of threat " + threatPending + " will be carried out."}, h.ephemeralsTo(alice))
	r := h.lastRecord()
	assert.Equal(t, "accepted", r.Decision)
	assert.Equal(t, "alice@example.com", r.Actor)
	assert.Equal(t, slackbot.ActApprove, r.Action)
	assert.Equal(t, threatPending, r.ThreatID)
	assert.Equal(t, workflows.WorkflowID(threatPending), r.InvestigationID)
	assert.True(t, strings.HasPrefix(r.ID, workflows.WorkflowID(threatPending)+"/slackbot/"), r.ID)
}

// Slack sending the same click again (a retry: newly signed, same payload) is the
// same decision: the same request ID, one decision, one audit record ID.
func TestSlackRetryIsOneDecision(t *testing.T) {
	h := newHarness(t)
	body := approveBody()
	status, _ := h.send(h.signed(slackbot.PathInteractions, body))
	require.Equal(t, http.StatusOK, status)
	r := h.signed(slackbot.PathInteractions, body)
	r.ts = r.ts.Add(2e9) // a retry is signed anew
	status, _ = h.send(r)
	require.Equal(t, http.StatusOK, status)

	calls := h.inv.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, calls[0].Decision.RequestID, calls[1].Decision.RequestID, "the request ID is stable across Slack's retries")
	assert.Len(t, h.inv.Recorded(), 1, "one decision")
	require.NoError(t, h.verifySignature(calls[1]))
	recs := h.audit.Records(t)
	require.Len(t, recs, 2)
	assert.Equal(t, recs[0].ID, recs[1].ID, "the SIEM drops the retry's record")
	assert.Equal(t, "accepted", recs[1].Decision)
}

// A second click (another action_ts) is another request: the first decision wins and
// the second is told what was decided.
func TestDoubleClickIsToldWhatWasDecided(t *testing.T) {
	h := newHarness(t)
	h.clickButton(alice, messages.ActionApprove, threatPending, "1700000100.000001")
	status, _ := h.clickButton(alice, messages.ActionApprove, threatPending, "1700000100.000002")
	assert.Equal(t, http.StatusOK, status)

	calls := h.inv.Calls()
	require.Len(t, calls, 2)
	assert.NotEqual(t, calls[0].Decision.RequestID, calls[1].Decision.RequestID)
	assert.Len(t, h.inv.Recorded(), 1)
	eph := h.ephemeralsTo(alice)
	require.Len(t, eph, 2)
	assert.Equal(t, "Threat "+threatPending+" was already decided: approved by alice@example.com (approved in Slack). Your click changed nothing.", eph[1])
	r := h.lastRecord()
	assert.Equal(t, "refused", r.Decision)
	assert.Equal(t, "already decided by alice@example.com", r.Reason)
	assert.NotEqual(t, h.audit.Records(t)[0].ID, r.ID)
}

func TestUnmappedUserSendsNothing(t *testing.T) {
	for _, user := range []string{ghost, nomail} {
		t.Run(user, func(t *testing.T) {
			h := newHarness(t)
			status, _ := h.clickButton(user, messages.ActionApprove, threatPending, "1700000100.000001")
			assert.Equal(t, http.StatusOK, status)
			assert.Empty(t, h.inv.Calls(), "nothing is sent to the investigation")
			eph := h.ephemeralsTo(user)
			require.Len(t, eph, 1)
			assert.Contains(t, eph[0], "I cannot tell which approver you are")
			r := h.lastRecord()
			assert.Equal(t, "refused", r.Decision)
			assert.Equal(t, user, r.Actor)
			assert.Contains(t, r.Reason, "maps to no approver")
		})
	}
}

// The role check is the investigation's: its refusal is passed on.
func TestUserWithoutTheRoleIsRefusedByTheInvestigation(t *testing.T) {
	h := newHarness(t)
	h.clickButton(bob, messages.ActionApprove, threatPending, "1700000100.000001")
	require.Len(t, h.inv.Calls(), 1)
	assert.Empty(t, h.inv.Recorded(), "refused")
	eph := h.ephemeralsTo(bob)
	require.Len(t, eph, 1)
	assert.Contains(t, eph[0], "Refused by the investigation of threat "+threatPending)
	assert.Contains(t, eph[0], `approver "bob@example.com" is not in any role`)
	r := h.lastRecord()
	assert.Equal(t, "refused", r.Decision)
	assert.Equal(t, "bob@example.com", r.Actor)
	assert.Contains(t, r.Reason, "is not in any role")
}

// The policy's identity.slackUsers maps a user ahead of their e-mail (carol has none in Slack).
func TestPolicyMapsSlackUser(t *testing.T) {
	h := newHarness(t)
	h.clickButton(carol, messages.ActionApprove, threatPending, "1700000100.000001")
	rec := h.inv.Recorded()
	require.Len(t, rec, 1)
	assert.Equal(t, "carol@example.com", rec[0].Decision.Approver)
	assert.Empty(t, h.slack.Calls("users.info"), "no need to ask Slack")
}

func TestApprovalAfterTheDeadline(t *testing.T) {
	h := newHarness(t)
	h.clickButton(alice, messages.ActionApprove, threatDeadline, "1700000100.000001")
	assert.Empty(t, h.inv.Recorded())
	eph := h.ephemeralsTo(alice)
	require.Len(t, eph, 1)
	assert.Contains(t, eph[0], "The approval deadline of threat "+threatDeadline+" passed at")
	assert.Contains(t, eph[0], "no action was taken")
	r := h.lastRecord()
	assert.Equal(t, "refused", r.Decision)
	assert.Contains(t, r.Reason, "not awaiting approval")
}

func TestApprovalOfAFinishedInvestigation(t *testing.T) {
	h := newHarness(t)
	h.clickButton(alice, messages.ActionApprove, threatFinished, "1700000100.000001")
	assert.Empty(t, h.inv.Recorded())
	eph := h.ephemeralsTo(alice)
	require.Len(t, eph, 1)
	assert.Equal(t, "The investigation of threat "+threatFinished+" has finished (outcome: mitigated); nothing was recorded.", eph[0])
	r := h.lastRecord()
	assert.Equal(t, "refused", r.Decision)
	assert.Equal(t, "investigation finished (mitigated)", r.Reason)
}

func TestNoWorkerAnsweredSaysTryAgain(t *testing.T) {
	h := newHarness(t)
	h.clickButton(alice, messages.ActionApprove, threatNoWorker, "1700000100.000001")
	eph := h.ephemeralsTo(alice)
	require.Len(t, eph, 1)
	assert.Contains(t, eph[0], "No worker answered in time")
	assert.Contains(t, eph[0], "Try again")
	assert.Equal(t, "not recorded: no worker answered", h.lastRecord().Reason)
}

// A button value that is not a threat ID never reaches a workflow ID.
func TestInvalidThreatIDInButton(t *testing.T) {
	h := newHarness(t)
	h.clickButton(alice, messages.ActionApprove, "../../x", "1700000100.000001")
	assert.Empty(t, h.inv.Calls())
	assert.Len(t, h.ephemeralsTo(alice), 1)
	assert.Equal(t, "refused", h.lastRecord().Decision)
}

// Link buttons report clicks too; they need nothing.
func TestOtherButtonsAreIgnored(t *testing.T) {
	h := newHarness(t)
	status, _ := h.clickButton(alice, "open_console", threatPending, "1700000100.000001")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, h.inv.Calls())
	assert.Empty(t, h.slack.Calls())
	assert.Empty(t, h.audit.Records(t))
}
