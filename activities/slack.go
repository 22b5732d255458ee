package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// SlackSettings are the non-secret Slack settings an investigation keeps (the bot
// token stays in the worker's Poster).
type SlackSettings struct {
	Channel string `json:"channel"`
	// PostAll and MinPriority say which investigations post besides those waiting for
	// a human (config.SlackPost).
	PostAll     bool   `json:"postAll,omitempty"`
	MinPriority string `json:"minPriority,omitempty"`
	// EscalationMention is put in reminder and escalation replies.
	EscalationMention string `json:"escalationMention,omitempty"`
	// RetryFor bounds each Slack call (config.Slack.RetryFor).
	RetryFor time.Duration `json:"retryFor,omitempty"`
	// InvestigationURL and ThreatURL are link prefixes: the workflow ID and the threat
	// ID are appended (URL-escaped by the workflow).
	InvestigationURL string `json:"investigationUrl,omitempty"`
	ThreatURL        string `json:"threatUrl,omitempty"`
}

// SlackPostInput posts an investigation's message.
type SlackPostInput struct {
	Channel string        `json:"channel"`
	Card    messages.Card `json:"card"`
}

// SlackUpdateInput brings the message at TS to Card.
type SlackUpdateInput struct {
	Channel string        `json:"channel"`
	TS      string        `json:"ts"`
	Card    messages.Card `json:"card"`
}

// SlackReplyInput posts Text in the message's thread, once per Key.
type SlackReplyInput struct {
	Channel    string `json:"channel"`
	TS         string `json:"ts"`
	WorkflowID string `json:"workflowId"`
	Key        string `json:"key"`
	Text       string `json:"text"`
}

// ErrTypeSlack marks a Slack failure no retry will fix (token, channel, message).
const ErrTypeSlack = "SlackRefused"

// PostSlackMessage posts the message and returns its ts. A retry first looks for the
// message an earlier attempt may have posted.
func (a *Activities) PostSlackMessage(ctx context.Context, in SlackPostInput) (string, error) {
	if a.Slack == nil {
		return "", errSlackOff
	}
	ts, err := a.Slack.Post(ctx, in.Channel, in.Card, activity.GetInfo(ctx).Attempt > 1)
	return ts, slackError(err)
}

// UpdateSlackMessage brings the message to the investigation's state.
func (a *Activities) UpdateSlackMessage(ctx context.Context, in SlackUpdateInput) error {
	if a.Slack == nil {
		return errSlackOff
	}
	return slackError(a.Slack.Update(ctx, in.Channel, in.TS, in.Card))
}

// ReplySlackThread posts a reminder or an escalation in the message's thread.
func (a *Activities) ReplySlackThread(ctx context.Context, in SlackReplyInput) error {
	if a.Slack == nil {
		return errSlackOff
	}
	return slackError(a.Slack.Reply(ctx, in.Channel, in.TS, in.WorkflowID, in.Key, in.Text, activity.GetInfo(ctx).Attempt > 1))
}

var errSlackOff = temporal.NewNonRetryableApplicationError("this worker has no Slack bot token (S1C_SLACK_BOT_TOKEN)", ErrTypeSlack, nil)

// slackError turns Slack's answer into Temporal's retry: Retry-After honoured,
// permanent refusals not retried.
func slackError(err error) error {
	if err == nil {
		return nil
	}
	retryAfter, permanent := messages.Classify(err)
	switch {
	case permanent:
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSlack, errors.Unwrap(err))
	case retryAfter > 0:
		return temporal.NewApplicationErrorWithOptions(err.Error(), "SlackRateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: retryAfter})
	}
	return err
}
