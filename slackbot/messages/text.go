package messages

import (
	"fmt"
	"strings"
)

// Text renders the card as plain text: the message's fallback (notifications, screen
// readers) and what the demo prints.
func Text(c Card) string {
	var b strings.Builder
	b.WriteString(c.Title() + "\n")
	fmt.Fprintf(&b, "Verdict %s (confidence %.2f), priority %s; SentinelOne rates it %s; analysed by %s\n",
		c.Verdict, c.Confidence, orDash(c.Priority), orDash(c.S1Rating), orDash(c.Analyzer))
	fmt.Fprintf(&b, "Summary: %s\n", orDash(c.Summary))
	for _, e := range c.Evidence {
		fmt.Fprintf(&b, "  evidence: %s\n", e)
	}
	for _, p := range c.Policy {
		fmt.Fprintf(&b, "  policy: %s\n", p)
	}
	if c.State == StatePending {
		if c.Review != "" {
			fmt.Fprintf(&b, "A human must settle this: %s\n", c.Review)
		}
		fmt.Fprintf(&b, "Waiting for a decision until %s:", stamp(c.Deadline))
		for _, p := range c.Pending {
			fmt.Fprintf(&b, " %s (may approve: %s);", p.Action, p.MayApprove)
		}
		b.WriteString(" [Approve] ")
		if len(c.Pending) > 1 {
			b.WriteString("[Approve some…] ")
		}
		b.WriteString("[Reject…]\n")
	}
	if line := c.DecisionLine(); line != "" {
		b.WriteString(line + "\n")
	}
	for _, r := range c.Results {
		fmt.Fprintf(&b, "  %s: %s", r.Action, r.State)
		if r.Detail != "" {
			fmt.Fprintf(&b, " (%s)", r.Detail)
		}
		b.WriteString("\n")
	}
	if c.Outcome != "" {
		fmt.Fprintf(&b, "Outcome: %s\n", c.Outcome)
	}
	return b.String()
}
