package slackbot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// errUnmapped: the Slack user maps to no approver identity.
var errUnmapped = errors.New("the Slack user maps to no approver")

// approverOf is the approver identity of a Slack user: the policy's
// identity.slackUsers entry, else the e-mail Slack holds for them (users.info, scope
// users:read.email; Slack verifies members' e-mails). Bots, deleted users and users
// without a visible e-mail are unmapped (errUnmapped). Whether the approver may decide
// is the investigation's to say.
func (b *Bot) approverOf(ctx context.Context, userID string) (string, error) {
	if userID == "" {
		return "", fmt.Errorf("%w: the request names no user", errUnmapped)
	}
	pol, err := b.policy()
	if err != nil {
		return "", err
	}
	if a := strings.TrimSpace(pol.Identity.SlackUsers[userID]); a != "" {
		return a, nil
	}
	u, err := b.o.Slack.GetUserInfoContext(ctx, userID)
	var slackErr slack.SlackErrorResponse
	switch {
	case errors.As(err, &slackErr) && (slackErr.Err == "user_not_found" || slackErr.Err == "user_not_visible"):
		return "", fmt.Errorf("%w: Slack user %s: users.info answered %s", errUnmapped, userID, slackErr.Err)
	case err != nil:
		return "", fmt.Errorf("reading Slack user %s: %w", userID, err)
	case u.Deleted || u.IsBot:
		return "", fmt.Errorf("%w: Slack user %s is deactivated or a bot", errUnmapped, userID)
	}
	email := strings.TrimSpace(u.Profile.Email)
	if email == "" {
		return "", fmt.Errorf("%w: Slack user %s has no visible e-mail (scope users:read.email) and no identity.slackUsers entry", errUnmapped, userID)
	}
	return email, nil
}

// unmappedText tells a user the bot could not establish who they are.
func unmappedText(err error) string {
	if errors.Is(err, errUnmapped) {
		return "I cannot tell which approver you are: your Slack account has no entry in the policy's identity.slackUsers and no e-mail I can read. Nothing was sent to the investigation; ask your s1copilot admin to map your account."
	}
	return "I could not check who you are right now (the error is logged); nothing was sent to the investigation. Try again in a moment."
}
