package workflows

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
)

func TestPendingQuery(t *testing.T) {
	q, err := PendingQuery("s1copilot", PendingFilter{Priority: "critical", Verdict: "TRUE_POSITIVE", AgentName: "FIN-FS-01"})
	require.NoError(t, err)
	assert.Equal(t, `WorkflowType = "InvestigateThreat" AND ExecutionStatus = "Running" AND S1Stage = "awaiting-approval" AND TaskQueue = "s1copilot"`+
		` AND S1Priority = "Critical" AND S1Verdict = "true_positive" AND S1AgentName = "FIN-FS-01"`, q)

	_, err = PendingQuery("q", PendingFilter{Priority: "urgent"})
	assert.ErrorContains(t, err, `priority "urgent" is not one of [Critical High Medium Low]`)
	for _, bad := range []string{`a" OR "1"="1`, `a\`, "a\nb", "a'b"} {
		_, err = PendingQuery("q", PendingFilter{AgentName: bad})
		assert.ErrorContains(t, err, "not allowed", "%q must be refused", bad)
	}
}

// The derived idempotency key is the same for the same decision and differs when
// anything that makes it a different decision differs.
func TestRequestKey(t *testing.T) {
	d := Decision{Approved: true, Approver: "alice", Reason: "ok", Actions: []investigation.Action{investigation.ActionKill}}
	assert.Equal(t, RequestKey("1", d), RequestKey("1", d))
	for name, other := range map[string]Decision{
		"approver": {Approved: true, Approver: "bob", Reason: "ok", Actions: d.Actions},
		"verdict":  {Approved: false, Approver: "alice", Reason: "ok", Actions: d.Actions},
		"reason":   {Approved: true, Approver: "alice", Reason: "other", Actions: d.Actions},
		"actions":  {Approved: true, Approver: "alice", Reason: "ok"},
	} {
		assert.NotEqual(t, RequestKey("1", d), RequestKey("1", other), name)
	}
	assert.NotEqual(t, RequestKey("1", d), RequestKey("2", d), "threat")
}
