package workflows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/policy"
)

// SignatureWindow is how far a signed decision's time may be from the investigation's
// clock: a signature is good for one decision, sent now, not a token kept for later.
const SignatureWindow = 10 * time.Minute

// authenticate says how the decision's approver is known (identity.Method*), verifying
// its signature against the policy's public keys. It is pure: the policy and the clock
// are the workflow's, so replay gives the same answer.
func (inv *investigator) authenticate(d Decision) (string, error) {
	var id policy.Identity
	if inv.settings.Policy != nil {
		id = inv.settings.Policy.Identity
	}
	if d.Signature == "" {
		if id.RequireSigned {
			return identity.MethodUnsigned, errors.New("this policy requires signed decisions: sign with starter approve --key, or decide in Slack")
		}
		return identity.MethodUnsigned, nil
	}
	now := workflow.Now(inv.ctx)
	if d.SignedAt.Before(now.Add(-SignatureWindow)) || d.SignedAt.After(now.Add(SignatureWindow)) {
		return identity.MethodUnsigned, fmt.Errorf("the decision was signed at %s, more than %s from the investigation's time %s: sign it again (and check the clock)",
			d.SignedAt.UTC().Format(time.RFC3339), SignatureWindow, now.UTC().Format(time.RFC3339))
	}
	method, key, err := signerKey(id, d)
	if err != nil {
		return identity.MethodUnsigned, err
	}
	pub, err := identity.ParsePublicKey(key)
	if err != nil {
		return identity.MethodUnsigned, fmt.Errorf("the policy's key for %s: %w", d.Approver, err)
	}
	if err := identity.Verify(pub, d.Statement(workflow.GetInfo(inv.ctx).WorkflowExecution.ID), d.Signature); err != nil {
		return identity.MethodUnsigned, fmt.Errorf("%s decision of %s: %w", method, d.Approver, err)
	}
	return method, nil
}

// signerKey is the public key the decision's signature must verify with: the Slack
// bot's for a decision it vouches for, else the approver's own.
func signerKey(id policy.Identity, d Decision) (method, key string, err error) {
	switch d.Signer {
	case identity.SlackBotSigner:
		if id.SlackBotKey == "" {
			return identity.MethodSlack, "", errors.New("the policy has no Slack bot key (identity.slackBotKey, or S1C_SLACK_BOT_PUBLIC_KEY with the built-in policy): a Slack decision cannot be verified")
		}
		if strings.TrimSpace(d.SlackUser) == "" {
			return identity.MethodSlack, "", errors.New("a Slack decision must name its Slack user")
		}
		return identity.MethodSlack, id.SlackBotKey, nil
	case "":
		// In sorted order, never map order: workflow code must pick the same key on replay.
		for _, approver := range slices.Sorted(maps.Keys(id.ApproverKeys)) {
			if strings.EqualFold(strings.TrimSpace(approver), strings.TrimSpace(d.Approver)) {
				return identity.MethodSignedCLI, id.ApproverKeys[approver], nil
			}
		}
		return identity.MethodSignedCLI, "", fmt.Errorf("the policy has no key for approver %q (identity.approverKeys)", d.Approver)
	}
	return identity.MethodUnsigned, "", fmt.Errorf("unknown signer %q", d.Signer)
}
