package slackbot_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/slackbot/messages"
	"github.com/s1copilot/s1copilot/tools/fakeslack"
)

// openedView returns the one modal opened, with the trigger_id it was opened with.
func (h *harness) openedView() (view map[string]any, raw json.RawMessage, trigger string) {
	h.t.Helper()
	calls := h.slack.Calls("views.open")
	require.Len(h.t, calls, 1)
	views := h.slack.Views()
	require.Len(h.t, views, 1)
	require.NoError(h.t, json.Unmarshal(views[0], &view))
	return view, views[0], calls[0].Args.Get("trigger_id")
}

func (h *harness) submit(p map[string]any) (int, map[string]any) {
	h.t.Helper()
	status, body := h.send(h.signed(slackbot.PathInteractions, interaction(p)))
	var ack map[string]any
	if body != "" {
		require.NoError(h.t, json.Unmarshal([]byte(body), &ack), body)
	}
	return status, ack
}

func TestApproveSomeOpensModalOfPendingActions(t *testing.T) {
	h := newHarness(t)
	status, body := h.clickButton(alice, messages.ActionApproveSome, threatPending, "1700000100.000001")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, body)
	view, raw, trigger := h.openedView()
	assert.Equal(t, "trigger-1700000100.000001", trigger, "the click's trigger_id")
	assert.Equal(t, messages.ModalApproveSome, view["callback_id"])
	var m slackbot.ModalMeta
	require.NoError(t, json.Unmarshal([]byte(view["private_metadata"].(string)), &m))
	assert.Equal(t, meta(threatPending), m)
	text := fakeslack.Render(raw)
	assert.Contains(t, text, "[ ] kill — servers need a human")
	assert.Contains(t, text, "[ ] quarantine")
	assert.NotContains(t, text, "isolate")
	assert.Contains(t, text, "Reason: ______")
	assert.Empty(t, h.inv.Calls(), "no decision yet")
	r := h.lastRecord()
	assert.Equal(t, "accepted", r.Decision)
	assert.Equal(t, slackbot.ActApproveSome, r.Action)
	assert.Equal(t, "form opened", r.Reason)
}

// Nothing to choose from: the user is told why, no modal opens.
func TestApproveSomeWhenNothingWaits(t *testing.T) {
	h := newHarness(t)
	h.clickButton(alice, messages.ActionApproveSome, threatFinished, "1700000100.000001")
	assert.Empty(t, h.slack.Calls("views.open"))
	eph := h.ephemeralsTo(alice)
	require.Len(t, eph, 1)
	assert.Contains(t, eph[0], "has finished (outcome: mitigated)")
	assert.Equal(t, "refused", h.lastRecord().Decision)
}

func TestApproveSomeSubmission(t *testing.T) {
	h := newHarness(t)
	p := submission(alice, "V0SOME", messages.ModalApproveSome, meta(threatPending), []string{"kill"}, "  only the process; the file is a false positive  ")
	status, ack := h.submit(p)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"response_action": "clear"}, ack)

	rec := h.inv.Recorded()
	require.Len(t, rec, 1)
	d := rec[0].Decision
	assert.True(t, d.Approved)
	assert.Equal(t, []investigation.Action{investigation.ActionKill}, d.Actions)
	assert.Equal(t, "only the process; the file is a false positive", d.Reason)
	assert.Equal(t, "alice@example.com", d.Approver)
	require.NoError(t, h.verifySignature(rec[0]))
	assert.Equal(t, []string{"Approved kill on threat " + threatPending + "; the other pending actions will not be taken."}, h.ephemeralsTo(alice))
	r := h.lastRecord()
	assert.Equal(t, "accepted", r.Decision)
	assert.Equal(t, slackbot.ActApproveSome, r.Action)

	// Slack resending the submission (signed anew): the same modal is the same decision.
	retry := h.signed(slackbot.PathInteractions, interaction(p))
	retry.ts = retry.ts.Add(time.Second)
	status, _ = h.send(retry)
	assert.Equal(t, http.StatusOK, status)
	calls := h.inv.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, calls[0].Decision.RequestID, calls[1].Decision.RequestID)
	assert.Len(t, h.inv.Recorded(), 1)
}

func TestApproveSomeInvalidSubmissionKeepsTheModalOpen(t *testing.T) {
	h := newHarness(t)
	status, ack := h.submit(submission(alice, "V0SOME", messages.ModalApproveSome, meta(threatPending), nil, "   "))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "errors", ack["response_action"])
	errs, _ := ack["errors"].(map[string]any)
	assert.Contains(t, errs, messages.BlockActions)
	assert.Contains(t, errs, messages.BlockReason)
	assert.Empty(t, h.inv.Calls())
	r := h.lastRecord()
	assert.Equal(t, "refused", r.Decision)
	assert.Contains(t, r.Reason, "invalid form")

	// An action that is not one is refused too.
	_, ack = h.submit(submission(alice, "V0SOME", messages.ModalApproveSome, meta(threatPending), []string{"format_disk"}, "why not"))
	assert.Equal(t, "errors", ack["response_action"])
	assert.Empty(t, h.inv.Calls())

	// The corrected submission of the same modal is another request, with its own record.
	_, ack = h.submit(submission(alice, "V0SOME", messages.ModalApproveSome, meta(threatPending), []string{"kill", "quarantine"}, "both"))
	assert.Equal(t, "clear", ack["response_action"])
	require.Len(t, h.inv.Recorded(), 1)
	recs := h.audit.Records(t)
	require.Len(t, recs, 3)
	assert.NotEqual(t, recs[0].ID, recs[2].ID)
	assert.Equal(t, "accepted", recs[2].Decision)
}

func TestRejectModalAndSubmission(t *testing.T) {
	h := newHarness(t)
	h.clickButton(alice, messages.ActionReject, threatPending, "1700000100.000001")
	view, raw, trigger := h.openedView()
	assert.Equal(t, "trigger-1700000100.000001", trigger)
	assert.Equal(t, messages.ModalReject, view["callback_id"])
	assert.Contains(t, fakeslack.Render(raw), "Reason: ______")
	assert.Empty(t, h.slack.Calls("users.info"), "the modal opens first: its trigger_id expires in 3 s")

	// A reason is required.
	_, ack := h.submit(submission(alice, "V0REJ", messages.ModalReject, meta(threatPending), nil, ""))
	assert.Equal(t, "errors", ack["response_action"])
	assert.Contains(t, ack["errors"], messages.BlockReason)
	assert.Empty(t, h.inv.Calls())

	_, ack = h.submit(submission(alice, "V0REJ", messages.ModalReject, meta(threatPending), nil, "benign admin tool"))
	assert.Equal(t, "clear", ack["response_action"])
	rec := h.inv.Recorded()
	require.Len(t, rec, 1)
	d := rec[0].Decision
	assert.False(t, d.Approved)
	assert.Empty(t, d.Actions)
	assert.Equal(t, "benign admin tool", d.Reason)
	require.NoError(t, h.verifySignature(rec[0]))
	eph := h.ephemeralsTo(alice)
	require.Len(t, eph, 1)
	assert.True(t, strings.HasPrefix(eph[0], "Rejected: none of the pending actions"), eph[0])
	r := h.lastRecord()
	assert.Equal(t, slackbot.ActReject, r.Action)
	assert.Equal(t, "accepted", r.Decision)
	assert.Equal(t, "benign admin tool", r.Reason)
}

// A modal's submission is checked like a click: an unmapped user sends nothing.
func TestSubmissionByUnmappedUser(t *testing.T) {
	h := newHarness(t)
	_, ack := h.submit(submission(ghost, "V0REJ", messages.ModalReject, meta(threatPending), nil, "no"))
	assert.Equal(t, "clear", ack["response_action"])
	assert.Empty(t, h.inv.Calls())
	eph := h.ephemeralsTo(ghost)
	require.Len(t, eph, 1)
	assert.Contains(t, eph[0], "I cannot tell which approver you are")
}

func TestSubmissionWithDamagedMetadata(t *testing.T) {
	h := newHarness(t)
	p := submission(alice, "V0REJ", messages.ModalReject, meta(threatPending), nil, "no")
	p["view"].(map[string]any)["private_metadata"] = `{"threat":"1; drop"}`
	_, ack := h.submit(p)
	assert.Equal(t, "errors", ack["response_action"])
	assert.Empty(t, h.inv.Calls())
	assert.Equal(t, "refused", h.lastRecord().Decision)
}
