package messages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// Poster posts, updates and replies to investigation messages. Slack has no
// idempotency key, so each message carries metadata naming its investigation (or its
// reply's key): an attempt that may follow one that posted and then failed to report
// back (lookFirst) finds that message instead of posting a second one.
type Poster struct {
	api *slack.Client
	// Slack allows about one chat.postMessage per second per channel and Tier 3
	// (about 50 a minute) for the rest; a worker keeps under both, and a 429 that
	// still comes back carries Retry-After, which the activity's retry honours.
	posts *rate.Limiter
	calls *rate.Limiter
}

// NewPoster returns a Poster with the bot token, against apiBase (https://slack.com/api/
// or a fake), over httpClient (nil: a client with a 10 s timeout).
func NewPoster(token, apiBase string, httpClient *http.Client) *Poster {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Poster{
		api:   slack.New(token, slack.OptionAPIURL(apiBase), slack.OptionHTTPClient(httpClient)),
		posts: rate.NewLimiter(rate.Every(time.Second), 3),
		calls: rate.NewLimiter(rate.Every(time.Minute/50), 10),
	}
}

// Post posts the card in channel and returns the message's ts. With lookFirst, it
// first looks in the channel's recent messages for the investigation's own.
func (p *Poster) Post(ctx context.Context, channel string, c Card, lookFirst bool) (string, error) {
	if lookFirst {
		ts, err := p.find(ctx, channel, "", c.WorkflowID, "")
		if err != nil || ts != "" {
			return ts, err
		}
	}
	if err := p.posts.Wait(ctx); err != nil {
		return "", fmt.Errorf("waiting to post: %w", err)
	}
	_, ts, err := p.api.PostMessageContext(ctx, channel, render(c)...)
	if err != nil {
		return "", fmt.Errorf("posting the message of %s: %w", c.WorkflowID, err)
	}
	return ts, nil
}

// Update brings the message at ts to the card. Updating twice with the same card is
// harmless, so it needs no lookup.
func (p *Poster) Update(ctx context.Context, channel, ts string, c Card) error {
	if err := p.calls.Wait(ctx); err != nil {
		return fmt.Errorf("waiting to update: %w", err)
	}
	if _, _, _, err := p.api.UpdateMessageContext(ctx, channel, ts, render(c)...); err != nil {
		return fmt.Errorf("updating the message of %s: %w", c.WorkflowID, err)
	}
	return nil
}

// Reply posts text in the message's thread once per key (a reminder, an escalation).
func (p *Poster) Reply(ctx context.Context, channel, threadTS, workflowID, key, text string, lookFirst bool) error {
	if lookFirst {
		ts, err := p.find(ctx, channel, threadTS, workflowID, key)
		if err != nil || ts != "" {
			return err
		}
	}
	if err := p.posts.Wait(ctx); err != nil {
		return fmt.Errorf("waiting to reply: %w", err)
	}
	_, _, err := p.api.PostMessageContext(ctx, channel, slack.MsgOptionTS(threadTS), slack.MsgOptionText(text, false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: ReplyEvent, EventPayload: map[string]any{"workflow_id": workflowID, "key": key}}))
	if err != nil {
		return fmt.Errorf("replying (%s) to the message of %s: %w", key, workflowID, err)
	}
	return nil
}

// find looks for the investigation's message (threadTS empty) or its reply with key
// among the latest 200 messages of the channel or thread.
func (p *Poster) find(ctx context.Context, channel, threadTS, workflowID, key string) (string, error) {
	if err := p.calls.Wait(ctx); err != nil {
		return "", fmt.Errorf("waiting to look for the message: %w", err)
	}
	var msgs []slack.Message
	var err error
	if threadTS == "" {
		var h *slack.GetConversationHistoryResponse
		h, err = p.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 200, IncludeAllMetadata: true})
		if h != nil {
			msgs = h.Messages
		}
	} else {
		msgs, _, _, err = p.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: threadTS, Limit: 200, IncludeAllMetadata: true})
	}
	if err != nil {
		return "", fmt.Errorf("looking for the message of %s already posted: %w", workflowID, err)
	}
	event := MetadataEvent
	if key != "" {
		event = ReplyEvent
	}
	for _, m := range msgs {
		md := m.Metadata
		if md.EventType == event && md.EventPayload["workflow_id"] == workflowID && (key == "" || md.EventPayload["key"] == key) {
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// render is the message: blocks, the escaped title as its notification text, and the
// metadata that lets a retry find it.
func render(c Card) []slack.MsgOption {
	return []slack.MsgOption{
		slack.MsgOptionBlocks(Blocks(c)...),
		slack.MsgOptionText(escape(c.Title()), false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: MetadataEvent, EventPayload: map[string]any{"workflow_id": c.WorkflowID, "threat_id": c.ThreatID}}),
	}
}

// permanentErrors are Slack's answers that no retry changes: the token, the channel
// or the message is wrong. An investigation says so in its note and goes on.
var permanentErrors = []string{"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
	"channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "invalid_blocks", "invalid_arguments",
	"missing_scope", "no_permission", "restricted_action", "message_not_found", "cant_update_message", "invalid_metadata_format"}

// Classify says how to retry err: after retryAfter when Slack rate-limited the call,
// never when permanent.
func Classify(err error) (retryAfter time.Duration, permanent bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter, false
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return 0, slices.Contains(permanentErrors, se.Err)
	}
	return 0, false
}
