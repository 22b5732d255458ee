// Package identity says how an approver's identity was established, and proves it:
// a decision signed with the approver's own ed25519 key (starter approve --key), or
// vouched for by the Slack bot, which signs on behalf of a Slack user whose request
// Slack signed and whose verified e-mail it read. The workflow verifies the signature
// against the public keys in the policy file before it accepts the decision; verifying
// is pure and deterministic, so it runs in workflow code.
package identity

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// How an approver's identity was established; every note and audit record says which.
const (
	// MethodSlack: a Slack user, authenticated by Slack (signed request) and mapped to
	// an approver by their verified e-mail or the policy; the bot's key vouches for it.
	MethodSlack = "slack"
	// MethodSignedCLI: a decision signed with the approver's own key.
	MethodSignedCLI = "signed-cli"
	// MethodUnsigned: the sender's word only (temporal workflow signal, starter
	// without --key); accepted only where the policy allows unsigned decisions.
	MethodUnsigned = "unsigned claim"
)

// SlackBotSigner is the Signer of decisions the Slack bot vouches for.
const SlackBotSigner = "slack-bot"

// Statement is what a signature covers: everything that makes a decision what it is,
// bound to one investigation, so it cannot be replayed elsewhere or altered.
type Statement struct {
	WorkflowID string
	Approved   bool
	Approver   string
	// Actions chosen (approve with changes); empty means every pending action.
	Actions   []string
	Reason    string
	RequestID string
	// SlackUser is the Slack user ID a bot-vouched decision is for; empty otherwise.
	SlackUser string
	SignedAt  time.Time
}

// Bytes is the canonical encoding signed: one field per line, each quoted (Go syntax),
// so no field can spill into the next.
func (s Statement) Bytes() []byte {
	var b strings.Builder
	b.WriteString("s1copilot-decision-v1\n")
	for _, f := range []string{s.WorkflowID, strconv.FormatBool(s.Approved), s.Approver, strings.Join(s.Actions, ","), s.Reason, s.RequestID, s.SlackUser, s.SignedAt.UTC().Format(time.RFC3339Nano)} {
		b.WriteString(strconv.Quote(f))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Sign signs s and returns the signature, base64 (standard encoding).
func Sign(key ed25519.PrivateKey, s Statement) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, s.Bytes()))
}

// ErrBadSignature: the signature does not match the statement and key.
var ErrBadSignature = errors.New("the signature does not match the decision and the signer's public key")

// Verify checks sig (base64) over s with pub.
func Verify(pub ed25519.PublicKey, s Statement, sig string) error {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("the signature is not base64: %w", err)
	}
	if len(raw) != ed25519.SignatureSize || !ed25519.Verify(pub, s.Bytes(), raw) {
		return ErrBadSignature
	}
	return nil
}

const publicKeyPrefix = "ed25519:"

// FormatPublicKey writes a public key as the policy file holds it: "ed25519:<base64>".
func FormatPublicKey(pub ed25519.PublicKey) string {
	return publicKeyPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads "ed25519:<base64 of the 32-byte key>".
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, publicKeyPrefix) {
		return nil, fmt.Errorf("a public key is written %s<base64> (as starter keygen prints it)", publicKeyPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, publicKeyPrefix))
	if err != nil {
		return nil, fmt.Errorf("the public key is not base64: %w", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("an ed25519 public key has %d bytes, not %d", ed25519.PublicKeySize, len(raw))
	}
	return ed25519.PublicKey(raw), nil
}

// ParsePrivateKey reads a PKCS#8 PEM ed25519 private key, as `starter keygen` and
// `openssl genpkey -algorithm ed25519` write it.
func ParsePrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" block (make one with: starter keygen, or openssl genpkey -algorithm ed25519)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("reading the PKCS#8 private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is a %T, not ed25519", k)
	}
	return priv, nil
}

// LoadPrivateKey reads ParsePrivateKey's format from a file.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the signing key: %w", err)
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// MarshalPrivateKey writes a private key as PKCS#8 PEM.
func MarshalPrivateKey(k ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding the private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
