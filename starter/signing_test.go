package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/workflows"
)

func TestKeygenWritesAPrivateKeyOnlyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alice.key")
	var out strings.Builder
	require.NoError(t, keygen([]string{"--out", path, "--as", "alice@example.com"}, &out))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "only its owner reads the key")
	priv, err := identity.LoadPrivateKey(path)
	require.NoError(t, err)
	pubLine := regexp.MustCompile(`alice@example.com: (ed25519:\S+)`).FindStringSubmatch(out.String())
	require.Len(t, pubLine, 2, out.String())
	pub, err := identity.ParsePublicKey(pubLine[1])
	require.NoError(t, err)
	assert.Equal(t, priv.Public(), pub)
	pem, _ := os.ReadFile(path)
	assert.NotContains(t, out.String(), string(pem[30:60]), "the private key is never printed")

	assert.ErrorContains(t, keygen([]string{"--out", path}, &out), "never overwritten")
	again, _ := os.ReadFile(path)
	assert.Equal(t, pem, again)
	assert.Error(t, keygen(nil, &out))

	out.Reset()
	require.NoError(t, keygen([]string{"--out", filepath.Join(t.TempDir(), "bot.key"), "--slack-bot"}, &out))
	assert.Contains(t, out.String(), "slackBotKey: ed25519:")
}

func TestASignedApprovalVerifiesAsTheInvestigationWill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "carol.key")
	var out strings.Builder
	require.NoError(t, keygen([]string{"--out", path, "--as", "carol@example.com"}, &out))
	pub, err := identity.ParsePublicKey(regexp.MustCompile(`ed25519:\S+`).FindString(out.String()))
	require.NoError(t, err)

	d := workflows.Decision{Approver: "carol@example.com", Reason: "keep it online", Channel: "starter", Actions: []investigation.Action{investigation.ActionKill}}
	require.NoError(t, sign(&d, "1910000000000000001", true, path, time.Now()))
	assert.True(t, d.Approved)
	assert.Equal(t, workflows.RequestKey("1910000000000000001", d), d.RequestID, "the ID Approve would derive, fixed before signing")
	require.NoError(t, identity.Verify(pub, d.Statement("s1-threat/1910000000000000001"), d.Signature))
	assert.Error(t, identity.Verify(pub, d.Statement("s1-threat/1910000000000000002"), d.Signature), "bound to its investigation")

	r := workflows.Decision{Approver: "carol@example.com", Reason: "lab", Actions: []investigation.Action{investigation.ActionKill}}
	require.NoError(t, sign(&r, "1910000000000000001", false, path, time.Now()))
	assert.False(t, r.Approved)
	assert.Nil(t, r.Actions, "Reject sends no actions, so none are signed")
	require.NoError(t, identity.Verify(pub, r.Statement("s1-threat/1910000000000000001"), r.Signature))

	assert.Error(t, sign(&d, "1", true, filepath.Join(t.TempDir(), "missing.key"), time.Now()))
}
