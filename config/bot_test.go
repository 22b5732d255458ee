package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadBot(t *testing.T) {
	setEnv(t, map[string]string{
		"S1C_SLACK_BOT_TOKEN": "xoxb-bot", "S1C_SLACK_SIGNING_SECRET": "shh", "S1C_SLACK_DECISION_KEY_FILE": "/keys/bot.pem",
		"S1C_POLICY_FILE": "/etc/s1c/policy.yaml", "S1C_AUDIT_FILE": "/var/log/s1c/audit.jsonl",
	})
	b, err := LoadBot()
	require.NoError(t, err)
	assert.Equal(t, ":3000", b.Slack.ListenAddr)
	assert.Equal(t, "s1copilot-control", b.Temporal.ControlWorkflowID())
	assert.Equal(t, "/etc/s1c/policy.yaml", b.PolicyFile)
	assert.Equal(t, "/var/log/s1c/audit.jsonl", b.AuditFile)
	assert.Equal(t, []string{"xoxb-bot", "shh", ""}, b.Secrets())
}

// Every problem at once; no S1C_S1_* setting is needed.
func TestLoadBotListsEveryProblem(t *testing.T) {
	setEnv(t, map[string]string{"S1C_TEMPORAL_ADDRESS": "nowhere", "S1C_LOG_LEVEL": "loud"})
	_, err := LoadBot()
	require.Error(t, err)
	for _, want := range []string{"S1C_TEMPORAL_ADDRESS", "S1C_SLACK_BOT_TOKEN is required", "S1C_SLACK_SIGNING_SECRET is required",
		"S1C_SLACK_DECISION_KEY_FILE is required", "S1C_LOG_LEVEL"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "S1C_S1_URL")
}
