package messages

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// ReportEvent marks the weekly report's message and its thread replies, keyed by the
// report ID, so a retried delivery finds what it posted instead of posting twice.
const ReportEvent = "s1copilot_report"

// maxReportPart bounds one reply of the report's Markdown: Slack cuts long messages
// and shows a code block up to about 4,000 characters.
const maxReportPart = 3500

// PostReport posts the report's headline in channel and its Markdown, in parts, in the
// message's thread. It is idempotent by reportID: the message and each part are
// posted only if the channel (the thread) does not already hold them. It returns the
// message's ts and how many parts it posted now.
func (p *Poster) PostReport(ctx context.Context, channel, reportID, headline, markdown string) (ts string, posted int, err error) {
	ts, err = p.findReport(ctx, channel, "", reportID, "")
	if err != nil {
		return "", 0, err
	}
	if ts == "" {
		if err := p.posts.Wait(ctx); err != nil {
			return "", 0, fmt.Errorf("waiting to post the report: %w", err)
		}
		_, ts, err = p.api.PostMessageContext(ctx, channel, slack.MsgOptionText(escape(headline), false),
			slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, escape(headline), false, false), nil, nil)),
			slack.MsgOptionMetadata(slack.SlackMetadata{EventType: ReportEvent, EventPayload: map[string]any{"report_id": reportID}}))
		if err != nil {
			return "", 0, fmt.Errorf("posting the report %s: %w", reportID, err)
		}
	}
	parts := splitReport(markdown, maxReportPart)
	for i, part := range parts {
		key := fmt.Sprintf("part %d/%d", i+1, len(parts))
		found, err := p.findReport(ctx, channel, ts, reportID, key)
		if err != nil {
			return ts, posted, err
		}
		if found != "" {
			continue
		}
		if err := p.posts.Wait(ctx); err != nil {
			return ts, posted, fmt.Errorf("waiting to post the report: %w", err)
		}
		_, _, err = p.api.PostMessageContext(ctx, channel, slack.MsgOptionTS(ts), slack.MsgOptionText("```\n"+escape(part)+"\n```", false),
			slack.MsgOptionMetadata(slack.SlackMetadata{EventType: ReportEvent, EventPayload: map[string]any{"report_id": reportID, "key": key}}))
		if err != nil {
			return ts, posted, fmt.Errorf("posting %s of the report %s: %w", key, reportID, err)
		}
		posted++
	}
	return ts, posted, nil
}

// findReport looks for the report's message (threadTS empty) or its part key in the thread.
func (p *Poster) findReport(ctx context.Context, channel, threadTS, reportID, key string) (string, error) {
	if err := p.calls.Wait(ctx); err != nil {
		return "", fmt.Errorf("waiting to look for the report: %w", err)
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
		return "", fmt.Errorf("looking for the report %s already posted: %w", reportID, err)
	}
	for _, m := range msgs {
		md := m.Metadata
		k, _ := md.EventPayload["key"].(string)
		if md.EventType == ReportEvent && md.EventPayload["report_id"] == reportID && k == key {
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// splitReport cuts text into parts of at most n bytes, at line ends where it can.
func splitReport(text string, n int) []string {
	var parts []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(strings.TrimSpace(text), "\n") {
		for len(line) > n { // a line longer than a part: cut it
			if cur.Len() > 0 {
				parts, cur = append(parts, cur.String()), strings.Builder{}
			}
			cut := n
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut-- // not inside a character
			}
			parts, line = append(parts, line[:cut]), line[cut:]
		}
		if cur.Len()+len(line) > n {
			parts, cur = append(parts, cur.String()), strings.Builder{}
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	for i := range parts {
		parts[i] = strings.TrimRight(parts[i], "\n")
	}
	return parts
}
