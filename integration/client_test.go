package integration

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/workflows"
)

// The client API the CLI and the Slack bot use, on a real server: Pending reads every
// page and filters; a decision sent twice is one decision; a second, different one is
// refused with the investigation's reason; Status says what the console was last told.
func TestInvestigationsClientAPI(t *testing.T) {
	s := newStack(t, stackOptions{})
	waiting := []string{"1910000000000000001", "1910000000000000002", "1910000000000000004"} // all wait for a human
	for _, id := range waiting {
		_, err := s.inv.Start(s.ctx, id, workflows.StartHint{})
		require.NoError(t, err)
	}
	paged := s.inv
	paged.PageSize = 1 // three pages
	var pending []workflows.PendingInvestigation
	waitUntil(t, s.ctx, "three investigations wait", func() bool {
		var err error
		pending, err = paged.Pending(s.ctx, workflows.PendingFilter{})
		require.NoError(t, err)
		return len(pending) == len(waiting)
	})
	var ids []string
	for _, p := range pending {
		ids = append(ids, p.ThreatID)
		assert.NotEmpty(t, p.AgentName)
		assert.NotEmpty(t, p.Priority)
	}
	assert.ElementsMatch(t, waiting, ids)

	critical, err := paged.Pending(s.ctx, workflows.PendingFilter{Priority: "critical"})
	require.NoError(t, err)
	require.Len(t, critical, 1, "only the ransomware is critical: %+v of %+v", critical, pending)
	assert.Equal(t, "1910000000000000001", critical[0].ThreatID)
	onHost, err := s.inv.Pending(s.ctx, workflows.PendingFilter{AgentName: "web-prod-03"})
	require.NoError(t, err)
	require.Len(t, onHost, 1)
	assert.Equal(t, "1910000000000000004", onHost[0].ThreatID)
	_, err = s.inv.Pending(s.ctx, workflows.PendingFilter{AgentName: `x" OR WorkflowType != "`})
	assert.ErrorContains(t, err, "quotes")

	// The same approval twice (a retried CLI call, a double click) is one decision.
	const macro = "1910000000000000002"
	d := workflows.Decision{Approver: "it-analyst", Reason: "confirmed C2"}
	out, err := s.inv.Approve(s.ctx, macro, d, workflows.DecideOptions{})
	require.NoError(t, err)
	assert.Equal(t, "recorded", out)
	out, err = s.inv.Approve(s.ctx, macro, d, workflows.DecideOptions{})
	require.NoError(t, err, "the same decision again is answered, not refused")
	assert.Equal(t, "recorded", out)
	_, err = s.inv.Reject(s.ctx, macro, workflows.Decision{Approver: "someone-else", Reason: "late"}, workflows.DecideOptions{})
	var refused *workflows.RefusedError
	require.True(t, errors.As(err, &refused), "a different decision is refused: %v", err)
	waitUntil(t, s.ctx, "the approved investigation finished", func() bool { return !s.anyRunning([]string{macro}) })

	st, err := s.inv.Status(s.ctx, macro)
	require.NoError(t, err)
	require.NotNil(t, st.Decision)
	assert.Equal(t, "it-analyst", st.Decision.Approver)
	require.NotNil(t, st.Console)
	assert.Equal(t, workflows.ConsoleWritten, st.Console.Source)
	assert.Equal(t, "resolved", st.Console.IncidentStatus, "the status shows what the investigation last wrote, not the in_progress it read")
	assert.Equal(t, 1, s.sim.Counters().AgentActions["1900000000000000002"]["disconnect"], "isolated once")
	approvals := 0
	for _, r := range s.audit.records(t) {
		if r.Kind == "approval" && r.ThreatID == macro {
			approvals++
		}
	}
	assert.Equal(t, 1, approvals, "one approval in the audit log")
}
