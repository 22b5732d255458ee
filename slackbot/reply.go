package slackbot

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/slack-go/slack"
	"go.uber.org/zap"
)

// ephemeral tells one user something only they see, in the channel of their click.
func (b *Bot) ephemeral(ctx context.Context, channel, user, text string) {
	if channel == "" || user == "" {
		b.o.Logger.Warn("Ephemeral answer not sent: no channel or user.", zap.String("user", user))
		return
	}
	if _, err := b.o.Slack.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err != nil {
		b.o.Logger.Warn("Ephemeral answer not sent.", zap.String("channel", channel), zap.String("user", user), zap.Error(err))
	}
}

// commandReply is a slash command's ephemeral answer, as an acknowledgement or posted
// to its response_url.
type commandReply struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func ephemeralReply(text string) *commandReply {
	return &commandReply{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

// answer answers a slash command after its acknowledgement: through its response_url,
// which works in any conversation, else with chat.postEphemeral.
func (b *Bot) answer(ctx context.Context, cmd slack.SlashCommand, text string) {
	if b.responseURLAllowed(cmd.ResponseURL) {
		err := slack.PostWebhookCustomHTTPContext(ctx, cmd.ResponseURL, http.DefaultClient,
			&slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text})
		if err == nil {
			return
		}
		// The error may quote the URL, which is a bearer capability: leave it out.
		b.o.Logger.Warn("Slash command answer not posted to its response_url; trying chat.postEphemeral.", zap.String("user", cmd.UserID))
	}
	b.ephemeral(ctx, cmd.ChannelID, cmd.UserID, text)
}

// responseURLAllowed keeps the bot from posting to wherever a request says: only
// Slack's hooks (or a configured fake) get an answer.
func (b *Bot) responseURLAllowed(raw string) bool {
	if raw == "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme == "https" && u.Hostname() == "hooks.slack.com" {
		return true
	}
	return slices.Contains(b.o.ResponseHosts, u.Host)
}

// esc escapes text for Slack's mrkdwn, so that a host name, a reason or an ID can
// neither mention @channel nor make a link.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
