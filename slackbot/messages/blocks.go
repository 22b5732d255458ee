package messages

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// Slack's limits on what a block holds; longer text is cut, never refused.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxLines   = 6
)

// Blocks renders the card as Block Kit. Every string that comes from the threat, the
// model or a human is escaped: a threat named "<!channel>" must not page the channel,
// nor a summary forge a link.
func Blocks(c Card) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(cut(c.Title(), maxHeader))),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			md(cut(fmt.Sprintf("*Verdict*\n%s (confidence %.2f)", escape(c.Verdict), c.Confidence), maxField)),
			md(cut("*Priority*\n"+escape(orDash(c.Priority)), maxField)),
			md(cut("*SentinelOne rates it*\n"+escape(orDash(c.S1Rating)), maxField)),
			md(cut("*Analysed by*\n"+escape(orDash(c.Analyzer)), maxField)),
		}, nil),
		section("*Summary*\n" + escape(orDash(c.Summary))),
	}
	if len(c.Evidence) > 0 {
		blocks = append(blocks, section("*Strongest evidence*\n"+bullets(c.Evidence)))
	}
	if len(c.Policy) > 0 {
		blocks = append(blocks, section("*Policy*\n"+bullets(c.Policy)))
	}
	if c.Review != "" && c.State == StatePending {
		blocks = append(blocks, section(":warning: *A human must settle this:* "+escape(c.Review)))
	}
	if c.State == StatePending {
		blocks = append(blocks, section(pendingText(c)), buttons(c))
	}
	if line := c.DecisionLine(); line != "" {
		blocks = append(blocks, section(decisionIcon(c)+" "+escape(line)))
	}
	if len(c.Results) > 0 {
		blocks = append(blocks, section("*Actions, verified in SentinelOne*\n"+results(c.Results)))
	}
	if c.Outcome != "" {
		blocks = append(blocks, section("*Outcome:* "+escape(c.Outcome)))
	}
	blocks = append(blocks, slack.NewContextBlock("", md(links(c))))
	return blocks
}

func pendingText(c Card) string {
	var b strings.Builder
	if len(c.Pending) > 0 {
		b.WriteString("*Waiting for approval*")
	} else {
		b.WriteString("*Waiting for a decision*")
	}
	if !c.Deadline.IsZero() {
		// Slack shows the deadline in each reader's time zone; the fallback is UTC.
		fmt.Fprintf(&b, " until <!date^%d^{date_short_pretty} {time}|%s>", c.Deadline.Unix(), stamp(c.Deadline))
	}
	b.WriteString("\n")
	for i, p := range c.Pending {
		if i == maxLines {
			fmt.Fprintf(&b, "• … and %d more\n", len(c.Pending)-i)
			break
		}
		fmt.Fprintf(&b, "• *%s*, may approve: %s\n", escape(p.Action), escape(p.MayApprove))
	}
	if len(c.Pending) == 0 {
		b.WriteString("Approve keeps SentinelOne's reading; Reject sides with the model.\n")
	}
	return b.String()
}

func buttons(c Card) slack.Block {
	approve := slack.NewButtonBlockElement(ActionApprove, c.ThreatID, plain("Approve")).WithStyle(slack.StylePrimary)
	approve.Confirm = slack.NewConfirmationBlockObject(plain("Approve?"),
		md(cut("Carry out "+escape(pendingList(c))+" on "+escape(orDash(c.Host))+".", 300)), plain("Approve"), plain("Cancel"))
	elems := []slack.BlockElement{approve}
	if len(c.Pending) > 1 {
		elems = append(elems, slack.NewButtonBlockElement(ActionApproveSome, c.ThreatID, plain("Approve some…")))
	}
	elems = append(elems, slack.NewButtonBlockElement(ActionReject, c.ThreatID, plain("Reject…")).WithStyle(slack.StyleDanger))
	return slack.NewActionBlock(ActionsBlock, elems...)
}

func pendingList(c Card) string {
	if len(c.Pending) == 0 {
		return "nothing more (the decision settles the disagreement)"
	}
	names := make([]string, len(c.Pending))
	for i, p := range c.Pending {
		names[i] = p.Action
	}
	return strings.Join(names, ", ")
}

func decisionIcon(c Card) string {
	switch {
	case c.State == StateNoDecision:
		return ":hourglass:"
	case c.State == StateClosedInConsole:
		return ":lock:"
	case c.Decision != nil && c.Decision.Approved:
		return ":white_check_mark:"
	}
	return ":x:"
}

func results(rs []Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "• *%s*: %s", escape(r.Action), escape(r.State))
		if r.Detail != "" {
			fmt.Fprintf(&b, " (%s)", escape(r.Detail))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func links(c Card) string {
	var parts []string
	if c.InvestigationURL != "" {
		parts = append(parts, fmt.Sprintf("<%s|Investigation in Temporal>", c.InvestigationURL))
	}
	if c.ThreatURL != "" {
		parts = append(parts, fmt.Sprintf("<%s|Threat in SentinelOne>", c.ThreatURL))
	}
	parts = append(parts, "`"+escape(c.WorkflowID)+"`")
	return strings.Join(parts, " · ")
}

func bullets(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i == maxLines {
			fmt.Fprintf(&b, "• … and %d more\n", len(lines)-i)
			break
		}
		b.WriteString("• " + escape(l) + "\n")
	}
	return b.String()
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(md(cut(text, maxSection)), nil, nil)
}

func md(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// escape makes untrusted text inert in mrkdwn: Slack reads <…> as links and mentions.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to at most n characters (runes), marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
