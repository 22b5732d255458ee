package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/workflows"
)

// approverKeyEnv names the default of approve's and reject's --key.
const approverKeyEnv = "S1C_APPROVER_KEY_FILE"

// sign makes d the approver's signed decision on threatID: everything the signature
// covers is set first, as the investigation will see it (Approve and Reject set
// Approved; the request ID is the one they would derive).
func sign(d *workflows.Decision, threatID string, approve bool, keyFile string, now time.Time) error {
	key, err := identity.LoadPrivateKey(keyFile)
	if err != nil {
		return err
	}
	d.Approved = approve
	if !approve {
		d.Actions = nil
	}
	if d.RequestID == "" {
		d.RequestID = workflows.RequestKey(threatID, *d)
	}
	d.SignedAt = now.UTC()
	d.Signer = ""
	d.Signature = identity.Sign(key, d.Statement(workflows.WorkflowID(threatID)))
	return nil
}

// keygen writes a new ed25519 private key (PEM, mode 0600) and prints the public key
// as the policy holds it.
func keygen(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	path := fs.String("out", "", "file to write the private key to (required; never overwritten)")
	bot := fs.Bool("slack-bot", false, "the key is the Slack bot's (S1C_SLACK_DECISION_KEY_FILE): print it as identity.slackBotKey")
	as := fs.String("as", "YOUR-NAME", "the approver the key is for, in the printed policy line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("keygen needs --out FILE")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generating the key: %w", err)
	}
	pem, err := identity.MarshalPrivateKey(priv)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing the private key (an existing key is never overwritten): %w", err)
	}
	if _, err := f.Write(pem); err != nil {
		f.Close()
		return fmt.Errorf("writing the private key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the private key: %w", err)
	}
	line := fmt.Sprintf("identity:\n  approverKeys:\n    %s: %s\n", *as, identity.FormatPublicKey(pub))
	use := fmt.Sprintf("sign with: starter approve THREAT_ID --as %s --key %s (or %s=%s)", *as, *path, approverKeyEnv, *path)
	if *bot {
		line = fmt.Sprintf("identity:\n  slackBotKey: %s\n", identity.FormatPublicKey(pub))
		use = fmt.Sprintf("the bot signs with it: S1C_SLACK_DECISION_KEY_FILE=%s (with the built-in policy: S1C_SLACK_BOT_PUBLIC_KEY=%s)", *path, identity.FormatPublicKey(pub))
	}
	fmt.Fprintf(out, "private key written to %s (keep it secret)\nadd to the policy file:\n%s%s\n", *path, line, use)
	return nil
}
