package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// HTTP endpoints of the bot (the app manifest names them).
const (
	PathInteractions = "/slack/interactions"
	PathCommands     = "/slack/commands"
	PathHealth       = "/healthz"
)

// Handler serves Slack's HTTP requests. Each is verified (verify) before it is parsed;
// a refused one gets 401 or 413 and an audit record, and nothing else happens.
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathInteractions, b.serveInteraction)
	mux.HandleFunc("POST "+PathCommands, b.serveCommand)
	mux.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

func (b *Bot) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := b.verified(w, r)
	if !ok {
		return
	}
	ic, err := slack.InteractionCallbackParse(reparse(r, body))
	if err != nil {
		b.malformed(w, r, body, err)
		return
	}
	writeAck(w, b.HandleInteraction(r.Context(), ic))
}

func (b *Bot) serveCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := b.verified(w, r)
	if !ok {
		return
	}
	cmd, err := slack.SlashCommandParse(reparse(r, body))
	if err != nil {
		b.malformed(w, r, body, err)
		return
	}
	writeAck(w, b.HandleCommand(r.Context(), cmd))
}

// verified runs verify and answers a refusal.
func (b *Bot) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, ref := b.verify(r)
	if ref == nil {
		return body, true
	}
	// The request is not Slack's (or not now): its key can only come from its headers.
	key := digest("refused", r.URL.Path, r.Header.Get("X-Slack-Request-Timestamp"), r.Header.Get("X-Slack-Signature"),
		strconv.FormatInt(r.ContentLength, 10), strconv.Itoa(len(body)))
	b.o.Logger.Warn("Slack request refused.", zap.String("path", r.URL.Path), zap.String("remote", r.RemoteAddr), zap.String("reason", ref.reason))
	b.record(r.Context(), entry{key: key, action: ActUnverified, reason: ref.reason + " (" + r.URL.Path + ")"})
	http.Error(w, ref.reason, ref.status)
	return nil, false
}

// malformed answers a signed request the bot cannot read.
func (b *Bot) malformed(w http.ResponseWriter, r *http.Request, body []byte, err error) {
	b.o.Logger.Warn("Signed Slack request unreadable.", zap.String("path", r.URL.Path), zap.Error(err))
	b.record(r.Context(), entry{key: digest("malformed", r.URL.Path, string(body)), action: ActUnsupported, reason: "unreadable payload (" + r.URL.Path + ")"})
	http.Error(w, "unreadable payload", http.StatusBadRequest)
}

// reparse gives slack-go's form parsers the body already read and verified.
func reparse(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.Form, r2.PostForm = nil, nil
	return r2
}

// writeAck answers Slack: an empty 200, or the JSON the handler returned (a modal's
// response_action, a slash command's ephemeral answer).
func writeAck(w http.ResponseWriter, ack any) {
	if ack == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ack)
}

// HandleInteraction handles a click or a submitted modal, from HTTP or Socket Mode,
// and returns what to answer Slack with at once (nil: an empty acknowledgement). The
// decision itself runs afterwards (spawn).
func (b *Bot) HandleInteraction(ctx context.Context, ic slack.InteractionCallback) any {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		for _, a := range ic.ActionCallback.BlockActions {
			b.handleButton(ctx, ic, a)
		}
		return nil
	case slack.InteractionTypeViewSubmission:
		return b.handleSubmission(ctx, ic)
	}
	b.record(ctx, entry{key: digest("interaction", string(ic.Type), ic.Team.ID, ic.User.ID, ic.ActionTs, ic.TriggerID, ic.View.ID),
		actor: ic.User.ID, action: ActUnsupported, reason: "unsupported interaction " + string(ic.Type)})
	return nil
}

// handleButton handles one of the message's buttons; others (links) need nothing.
func (b *Bot) handleButton(ctx context.Context, ic slack.InteractionCallback, a *slack.BlockAction) {
	if !strings.HasPrefix(a.ActionID, "s1c_") {
		return // a link button: Slack reports the click, there is nothing to do
	}
	c := click{
		threatID: a.Value, channel: channelOf(ic), messageTS: messageTS(ic), user: ic.User.ID,
		triggerID: ic.TriggerID, requestID: buttonRequestID(ic, a),
	}
	c.key = strings.TrimPrefix(c.requestID, "slack-")
	if !validThreatID(c.threatID) {
		b.record(ctx, entry{key: c.key, actor: c.user, action: a.ActionID, reason: "the button names no valid threat"})
		b.spawn(ctx, "ephemeral", func(ctx context.Context) {
			b.ephemeral(ctx, c.channel, c.user, "This button names no valid threat; nothing was done.")
		})
		return
	}
	switch a.ActionID {
	case messages.ActionApprove:
		b.spawn(ctx, ActApprove, func(ctx context.Context) {
			b.decide(ctx, decisionRequest{click: c, what: ActApprove, approve: true, reason: ApproveReason})
		})
	case messages.ActionApproveSome:
		b.spawn(ctx, ActApproveSome, func(ctx context.Context) { b.openApproveSome(ctx, c) })
	case messages.ActionReject:
		b.spawn(ctx, ActReject, func(ctx context.Context) { b.openReject(ctx, c) })
	default:
		b.record(ctx, entry{key: c.key, threatID: c.threatID, actor: c.user, action: a.ActionID, reason: "unknown button"})
	}
}

// click is what a button click or a submitted modal is about, and who sent it.
type click struct {
	threatID, channel, messageTS, user, triggerID string
	// requestID is the decision's idempotency key; key the audit record's.
	requestID, key string
}
