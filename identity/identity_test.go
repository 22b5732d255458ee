package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func statement() Statement {
	return Statement{WorkflowID: "s1-threat/1", Approved: true, Approver: "alice@example.com", Actions: []string{"kill", "isolate"},
		Reason: "confirmed", RequestID: "r1", SlackUser: "U0A", SignedAt: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
}

func TestASignatureCoversEveryField(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	st := statement()
	sig := Sign(priv, st)
	require.NoError(t, Verify(pub, st, sig))
	for name, change := range map[string]func(*Statement){
		"workflow": func(s *Statement) { s.WorkflowID = "s1-threat/2" },
		"approved": func(s *Statement) { s.Approved = false },
		"approver": func(s *Statement) { s.Approver = "mallory@example.com" },
		"actions":  func(s *Statement) { s.Actions = []string{"kill"} },
		"reason":   func(s *Statement) { s.Reason = "other" },
		"request":  func(s *Statement) { s.RequestID = "r2" },
		"slack":    func(s *Statement) { s.SlackUser = "U0B" },
		"time":     func(s *Statement) { s.SignedAt = s.SignedAt.Add(time.Second) },
		// A field's text may not move into the next one.
		"boundary": func(s *Statement) { s.Reason, s.RequestID = "confirmed\"\n\"r1", "" },
	} {
		changed := statement()
		change(&changed)
		assert.ErrorIs(t, Verify(pub, changed, sig), ErrBadSignature, name)
	}
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	assert.ErrorIs(t, Verify(otherPub, st, sig), ErrBadSignature)
	assert.Error(t, Verify(pub, st, "not base64!"))
	assert.ErrorIs(t, Verify(pub, st, "AAAA"), ErrBadSignature)
}

func TestKeysRoundTrip(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	got, err := ParsePublicKey(" " + FormatPublicKey(pub) + "\n")
	require.NoError(t, err)
	assert.Equal(t, pub, got)
	pem, err := MarshalPrivateKey(priv)
	require.NoError(t, err)
	back, err := ParsePrivateKey(pem)
	require.NoError(t, err)
	assert.Equal(t, priv, back)
	for _, bad := range []string{"", "rsa:AAAA", "ed25519:@@", "ed25519:AAAA"} {
		_, err := ParsePublicKey(bad)
		assert.Error(t, err, bad)
	}
	_, err = ParsePrivateKey([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	assert.ErrorContains(t, err, "starter keygen")
}

// openssl genpkey -algorithm ed25519 writes this format.
const opensslKey = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIOs8lC0a0cKtkkhMbmAeGJmWLj7ZBzVXjt1gDfw2xqx4
-----END PRIVATE KEY-----
`

func TestOpenSSLKeysAreRead(t *testing.T) {
	k, err := ParsePrivateKey([]byte(opensslKey))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(FormatPublicKey(k.Public().(ed25519.PublicKey)), "ed25519:"))
}
