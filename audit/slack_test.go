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

// A hunt concerns no one threat either, and records how many events it found.
func TestHuntRecordsNeedNoThreat(t *testing.T) {
	r := rec("s1-hunt/h1")
	n := 3
	r.Kind, r.ThreatID, r.HuntEvents = audit.KindHunt, "", &n
	assert.NoError(t, r.Validate())
	assert.Contains(t, audit.Kinds, audit.KindHunt)
}
