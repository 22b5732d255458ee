package slackbot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/workflows"
)

// Hunts is what the bot does with hunts; workflows.Hunts is the real one.
type Hunts interface {
	Start(ctx context.Context, in workflows.HuntInput) error
	Result(ctx context.Context, id string) (workflows.HuntStatus, error)
}

var _ Hunts = workflows.Hunts{}

// HuntWait bounds how long the bot waits for a hunt's result to post it: Slack's
// response_url lives 30 minutes.
var HuntWait = 29 * time.Minute

// hunt starts a hunt for `/s1copilot hunt QUESTION`. The slash command is the
// analyst's explicit request, so the query runs without a second confirmation (it is
// shown with the result, and every hunt is audited with its asker). The hunt ID derives
// from the request, so Slack's retry starts no second hunt.
func (b *Bot) hunt(ctx context.Context, cmd slack.SlashCommand, e entry, question string) {
	if b.o.Hunts == nil {
		e.reason = "hunting not configured"
		b.record(ctx, e)
		b.answer(ctx, cmd, "Hunting is not available from this bot; use `starter hunt`.")
		return
	}
	id := "h-slack-" + e.key[:20]
	in := workflows.HuntInput{ID: id, Question: question, Actor: cmd.UserID, Channel: "slack", Confirmed: true}
	if err := b.o.Hunts.Start(ctx, in); err != nil {
		b.failed(ctx, cmd, e, "starting the hunt", err)
		return
	}
	e.accepted, e.reason = true, "hunt "+id
	b.record(ctx, e)
	b.answer(ctx, cmd, fmt.Sprintf("Hunting `%s`: %s\nDeep Visibility runs one query a minute, so it may queue; I will post the result here.", id, esc(truncate(question, 300))))
	// The result comes later than the request's work may take: wait on its own clock.
	go func() {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), HuntWait)
		defer cancel()
		st, err := b.o.Hunts.Result(wctx, id)
		if err != nil {
			b.o.Logger.Warn("Hunt result not available for Slack.", zap.String("hunt", id), zap.Error(err))
			b.answer(wctx, cmd, fmt.Sprintf("Hunt `%s` did not finish in time for this message; see `starter` or the Web UI (`s1-hunt/%s`).", id, id))
			return
		}
		b.answer(wctx, cmd, huntText(st))
	}()
}

// huntText renders a hunt's result for Slack (escaped: queries and hosts come from
// endpoints and the model).
func huntText(st workflows.HuntStatus) string {
	var b strings.Builder
	t := st.Translation
	fmt.Fprintf(&b, "*Hunt `%s`: %s*", st.ID, st.Outcome)
	if st.Reason != "" {
		fmt.Fprintf(&b, ": %s", esc(truncate(st.Reason, 500)))
	}
	if t.Query != "" {
		fmt.Fprintf(&b, "\nQuery (%s): ```%s```\n%s", esc(t.Translator), esc(truncate(t.Query, 1500)), esc(truncate(t.Explanation, 300)))
	}
	if t.Notice != "" {
		fmt.Fprintf(&b, "\n_%s_", esc(truncate(t.Notice, 400)))
	}
	if s := st.Summary; s != nil {
		fmt.Fprintf(&b, "\n```%s```", esc(truncate(s.Text(), 2000)))
		if s.JSONPath != "" {
			fmt.Fprintf(&b, "\nEvents: `%s`, `%s` (on the SentinelOne worker)", esc(s.JSONPath), esc(s.CSVPath))
		}
	}
	for i, q := range st.FollowUps {
		if i == 0 {
			b.WriteString("\nFollow-ups:")
		}
		fmt.Fprintf(&b, "\n• `/s1copilot hunt %s`", esc(truncate(q, 200)))
	}
	return b.String()
}
