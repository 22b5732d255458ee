package audit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/audit"
)

// A Slack bot request may concern no threat (a refused signature, a slash command);
// every other kind still needs one.
func TestSlackRequestMayConcernNoThreat(t *testing.T) {
	r := rec("slackbot/abc")
	r.Kind, r.ThreatID = audit.KindSlackRequest, ""
	assert.NoError(t, r.Validate())
	assert.True(t, audit.KindSlackRequest.Valid())
	r.Kind = audit.KindApproval
	assert.ErrorContains(t, r.Validate(), "missing threatId")
}
