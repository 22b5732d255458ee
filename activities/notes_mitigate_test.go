package activities_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
)

// A worker that crashes after SentinelOne accepted the note but before the activity
// completed gets the same input again on retry; the marker must stop a second note.
func TestPostNoteIsIdempotentAcrossRetries(t *testing.T) {
	f := newFixture(t)
	in := activities.NoteInput{
		ThreatID: simtest.ThreatRansomFS,
		Marker:   "[s1copilot:investigation-1910000000000000001:verdict]",
		Text:     "s1copilot verdict: true_positive (ransomware on a file server)",
	}

	first, err := activitytest.Run[activities.NoteResult](t, f.env, f.acts.PostNote, in)
	require.NoError(t, err)
	assert.False(t, first.AlreadyPosted, "the first call posts the note")
	require.Equal(t, 1, f.sim.Counters().Notes[simtest.ThreatRansomFS])

	// The retry after the simulated crash.
	retry, err := activitytest.Run[activities.NoteResult](t, f.env, f.acts.PostNote, in)
	require.NoError(t, err)
	assert.True(t, retry.AlreadyPosted, "the retry finds the note carrying its marker")

	assert.Equal(t, 1, f.sim.Counters().Notes[simtest.ThreatRansomFS], "exactly one POST /threats/notes")
	notes := f.sim.Notes(simtest.ThreatRansomFS)
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0], in.Marker)
	assert.Contains(t, notes[0], in.Text)

	// Another marker is another note.
	other := in
	other.Marker = "[s1copilot:investigation-1910000000000000001:mitigation]"
	other.Text = "s1copilot mitigated the threat"
	res, err := activitytest.Run[activities.NoteResult](t, f.env, f.acts.PostNote, other)
	require.NoError(t, err)
	assert.False(t, res.AlreadyPosted)
	assert.Equal(t, 2, f.sim.Counters().Notes[simtest.ThreatRansomFS])
	notes = f.sim.Notes(simtest.ThreatRansomFS)
	require.Len(t, notes, 2)
	assert.Contains(t, notes[1], other.Marker)
	assert.NotContains(t, notes[1], in.Marker)

	// Markers are per threat: the same marker on another threat still posts there.
	elsewhere := in
	elsewhere.ThreatID = simtest.ThreatMacro
	res, err = activitytest.Run[activities.NoteResult](t, f.env, f.acts.PostNote, elsewhere)
	require.NoError(t, err)
	assert.False(t, res.AlreadyPosted)
	assert.Equal(t, 1, f.sim.Counters().Notes[simtest.ThreatMacro])
	assert.Equal(t, 2, f.sim.Counters().Notes[simtest.ThreatRansomFS])
}

func TestPostNoteRejectsInputWithoutMarker(t *testing.T) {
	f := newFixture(t)
	for _, in := range []activities.NoteInput{
		{ThreatID: simtest.ThreatRansomFS, Text: "no marker"},
		{Marker: "[m]", Text: "no threat"},
	} {
		_, err := activitytest.Run[activities.NoteResult](t, f.env, f.acts.PostNote, in)
		activitytest.RequireNonRetryable(t, err, activities.ErrTypeBadInput)
	}
	assert.Empty(t, f.sim.Counters().Notes, "nothing may be posted without a marker")
}

func TestPostNoteUnknownThreatIsNotRetried(t *testing.T) {
	f := newFixture(t)
	_, err := activitytest.Run[activities.NoteResult](t, f.env, f.acts.PostNote,
		activities.NoteInput{ThreatID: simtest.UnknownThreatID, Marker: "[m]", Text: "x"})
	activitytest.RequireNonRetryable(t, err, activities.ErrTypeThreatNotFound)
	assert.Empty(t, f.sim.Counters().Notes)
}

func TestMitigateKillIsIdempotent(t *testing.T) {
	f := newFixture(t)
	in := activities.MitigateInput{ThreatID: simtest.ThreatRansomFS, AgentID: simtest.AgentFS, Action: investigation.ActionKill}

	first, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.False(t, first.AlreadyRequested, "the first call requests the kill")
	assert.Empty(t, first.Refused)
	assert.Equal(t, 1, first.Batch.Size)
	assert.True(t, strings.HasPrefix(first.Batch.ID, "mitigate/"), "the request is named for the audit record: %q", first.Batch.ID)

	second, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.True(t, second.AlreadyRequested, "the retry sees the pending kill and does not POST again")
	assert.Empty(t, second.Refused)

	// Still idempotent once the agent has reported.
	f.clock.Advance(mitigationDelay)
	third, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.True(t, third.AlreadyRequested)

	c := f.sim.Counters()
	assert.Equal(t, 1, c.Mitigations[simtest.ThreatRansomFS]["kill"], "exactly one POST /threats/mitigate/kill")
	assert.Len(t, c.Mitigations[simtest.ThreatRansomFS], 1, "no other action was requested: %v", c.Mitigations)
}

func TestMitigateIsolateIsIdempotent(t *testing.T) {
	f := newFixture(t)
	in := activities.MitigateInput{ThreatID: simtest.ThreatAdware, AgentID: simtest.AgentHR, Action: investigation.ActionIsolate}

	first, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.False(t, first.AlreadyRequested)
	assert.Empty(t, first.Refused)
	assert.True(t, strings.HasPrefix(first.Batch.ID, "disconnect/"), first.Batch.ID)

	// While disconnecting, and again once disconnected.
	second, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.True(t, second.AlreadyRequested)
	f.clock.Advance(isolationDelay)
	third, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.True(t, third.AlreadyRequested)

	c := f.sim.Counters()
	assert.Equal(t, 1, c.AgentActions[simtest.AgentHR]["disconnect"], "exactly one POST /agents/actions/disconnect")
	assert.Empty(t, c.Mitigations, "isolation is an agent action, not a threat mitigation")
}

func TestMitigateRejectsBadInput(t *testing.T) {
	f := newFixture(t)
	_, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate,
		activities.MitigateInput{ThreatID: simtest.ThreatAdware, Action: investigation.ActionIsolate})
	activitytest.RequireNonRetryable(t, err, activities.ErrTypeBadInput)

	_, err = activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate,
		activities.MitigateInput{ThreatID: simtest.ThreatAdware, AgentID: simtest.AgentHR, Action: "reboot"})
	activitytest.RequireNonRetryable(t, err, activities.ErrTypeBadInput)

	c := f.sim.Counters()
	assert.Empty(t, c.AgentActions)
	assert.Empty(t, c.Mitigations)
}

// SentinelOne answers remediate on Linux with 200 and a skipped detail; that is a
// refusal to report, not an error to retry.
func TestMitigateRemediateOnLinuxIsRefused(t *testing.T) {
	f := newFixture(t)
	res, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate,
		activities.MitigateInput{ThreatID: simtest.ThreatMiner, AgentID: simtest.AgentLinux, Action: investigation.ActionRemediate})
	require.NoError(t, err)
	assert.Contains(t, res.Refused, "not_supported")
	assert.False(t, res.AlreadyRequested)
	assert.Zero(t, f.sim.Counters().Mitigations[simtest.ThreatMiner]["remediate"], "a skipped action affected nothing")
}

// notSettled asserts err is the benign, retryable "not settled yet" error.
func requireNotSettled(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	appErr := activitytest.AppError(t, err)
	require.Equal(t, activities.ErrTypeNotSettled, appErr.Type(), "error: %v", err)
	assert.False(t, appErr.NonRetryable(), "not settled must be retried: the retry policy is the polling loop")
	assert.Equal(t, temporal.ApplicationErrorCategoryBenign, appErr.Category(), "polling is not a failure worth alerting on")
	assert.Equal(t, mitigationPoll, appErr.NextRetryDelay(), "the next poll follows Settings.MitigationPoll")
	return appErr
}

func TestVerifyMitigationKill(t *testing.T) {
	f := newFixture(t)
	in := activities.VerifyInput{ThreatID: simtest.ThreatMacro, AgentID: "1900000000000000002", Action: investigation.ActionKill}

	// Nothing requested yet.
	_, err := activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	assert.Contains(t, requireNotSettled(t, err).Error(), "no status yet")

	_, err = activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	_, err = activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	assert.Contains(t, requireNotSettled(t, err).Error(), "pending")

	f.clock.Advance(mitigationDelay - time.Second)
	_, err = activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	requireNotSettled(t, err)

	f.clock.Advance(time.Second)
	res, err := activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	require.NoError(t, err)
	assert.Equal(t, s1client.MitigationStatusSuccess, res.State)
	assert.NotEmpty(t, res.Detail)
}

func TestVerifyMitigationReportsFailure(t *testing.T) {
	f := newFixture(t)
	th := simtest.NewThreat("1910000000000000100", simtest.AgentFS, "1m")
	th.FailActions = []string{"quarantine"}
	require.NoError(t, f.sim.AddThreat(th))
	in := activities.VerifyInput{ThreatID: th.ID, AgentID: simtest.AgentFS, Action: investigation.ActionQuarantine}

	_, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	f.clock.Advance(mitigationDelay)
	res, err := activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	require.NoError(t, err, "a failed mitigation is a settled state, not an error")
	assert.Equal(t, s1client.MitigationStatusFailed, res.State)
}

// Rollback on a Windows agent without VSS is accepted and never completes: the
// activity must keep reporting "not settled" so the schedule-to-close timeout decides.
func TestVerifyRollbackWithoutVSSNeverSettles(t *testing.T) {
	f := newFixture(t)
	in := activities.VerifyInput{ThreatID: simtest.ThreatNoVSS, AgentID: simtest.AgentNoVSS, Action: investigation.ActionRollback}

	res, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.Empty(t, res.Refused, "the console accepts the rollback")
	assert.Equal(t, 1, f.sim.Counters().Mitigations[simtest.ThreatNoVSS]["rollback-remediation"])

	_, err = activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	requireNotSettled(t, err)
	f.clock.Advance(24 * time.Hour)
	_, err = activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	assert.Contains(t, requireNotSettled(t, err).Error(), "rollback")
}

func TestVerifyIsolation(t *testing.T) {
	f := newFixture(t)
	in := activities.VerifyInput{ThreatID: simtest.ThreatAdware, AgentID: simtest.AgentHR, Action: investigation.ActionIsolate}

	// Connected: nothing requested, not settled.
	_, err := activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	assert.Contains(t, requireNotSettled(t, err).Error(), "connected")

	_, err = activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	_, err = activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	assert.Contains(t, requireNotSettled(t, err).Error(), "disconnecting")

	f.clock.Advance(isolationDelay)
	res, err := activitytest.Run[activities.VerifyResult](t, f.env, f.acts.VerifyMitigation, in)
	require.NoError(t, err)
	assert.Equal(t, s1client.MitigationStatusSuccess, res.State)
	assert.True(t, strings.Contains(res.Detail, "disconnected"), "detail: %q", res.Detail)
}
