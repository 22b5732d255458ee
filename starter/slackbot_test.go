package main

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/policy"
)

func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range config.Usage() {
		t.Setenv(v.Name, "")
		require.NoError(t, os.Unsetenv(v.Name))
	}
}

// The bot checks its settings before it connects to anything, listing every problem.
func TestSlackBotNeedsItsSettings(t *testing.T) {
	clearEnv(t)
	err := run(context.Background(), []string{"slackbot"})
	require.Error(t, err)
	for _, want := range []string{"S1C_SLACK_BOT_TOKEN is required", "S1C_SLACK_SIGNING_SECRET is required", "S1C_SLACK_DECISION_KEY_FILE is required"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.ErrorContains(t, run(context.Background(), []string{"slackbot", "now"}), "slackbot takes no arguments")
}

func TestSlackBotRefusesAMissingKeyWithoutShowingSecrets(t *testing.T) {
	clearEnv(t)
	t.Setenv("S1C_SLACK_BOT_TOKEN", "xoxb-secret-token-1234")
	t.Setenv("S1C_SLACK_SIGNING_SECRET", "signing-secret-5678")
	t.Setenv("S1C_SLACK_DECISION_KEY_FILE", filepath.Join(t.TempDir(), "missing.pem"))
	err := run(context.Background(), []string{"slackbot"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading the signing key")
	assert.NotContains(t, err.Error(), "xoxb-secret-token-1234")
	assert.NotContains(t, err.Error(), "signing-secret-5678")
}

func TestCheckBotKey(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	other, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	z := zap.NewNop()
	assert.NoError(t, checkBotKey(&policy.Policy{}, key, z), "no key in the policy: a warning")
	assert.NoError(t, checkBotKey(&policy.Policy{Identity: policy.Identity{SlackBotKey: identity.FormatPublicKey(pub)}}, key, z))
	err = checkBotKey(&policy.Policy{Identity: policy.Identity{SlackBotKey: identity.FormatPublicKey(other)}}, key, z)
	assert.ErrorContains(t, err, "is not the public key of S1C_SLACK_DECISION_KEY_FILE")
	assert.ErrorContains(t, checkBotKey(&policy.Policy{Identity: policy.Identity{SlackBotKey: "rsa:nope"}}, key, z), "identity.slackBotKey")
}

func TestLoadPolicyForTheBot(t *testing.T) {
	src, err := loadPolicy("", "")
	require.NoError(t, err)
	p, err := src.Current()
	require.NoError(t, err)
	assert.Empty(t, p.Roles, "the built-in policy has no roles")
	_, err = loadPolicy(filepath.Join(t.TempDir(), "missing.yaml"), "")
	assert.Error(t, err)
}
