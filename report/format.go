package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration formats a duration as a SOC reads it: "42s", "4m 12s", "3h 05m", "2d 4h".
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		m, s := int(d/time.Minute), int((d%time.Minute)/time.Second)
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm %ds", m, s)
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int((d%time.Hour)/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int((d%(24*time.Hour))/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// USD formats a cost: cents from a dollar up, a tenth of a cent below.
func USD(v float64) string {
	if v >= 1 || v == 0 {
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 4, 64)
}

// Period formats the report's window.
func (w Window) Period() string {
	const f = "2006-01-02 15:04"
	return w.From.UTC().Format(f) + " to " + w.To.UTC().Format(f) + " UTC"
}

// Headline is the report's first line of figures (the Slack message, the summary by rules).
func (f Figures) Headline() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d investigations", f.Investigations)
	if f.Running > 0 {
		fmt.Fprintf(&b, " (%d still running)", f.Running)
	}
	if f.MTTT.N > 0 {
		fmt.Fprintf(&b, "; time to triage p50 %s", Duration(f.MTTT.P50))
	}
	if f.MTTR.N > 0 {
		fmt.Fprintf(&b, "; time to respond p50 %s", Duration(f.MTTR.P50))
	}
	if n := f.count(f.Outcomes, OutcomeAutomatic) + f.count(f.Outcomes, OutcomeApproved); n > 0 {
		fmt.Fprintf(&b, "; %d mitigated automatically or on approval", n)
	}
	return b.String()
}

func (Figures) count(cs []Count, label string) int {
	for _, c := range cs {
		if c.Label == label {
			return c.N
		}
	}
	return 0
}

// Facts are the figures as plain lines, numbers and fixed labels only (no host, user
// or threat names): what the model is given to summarise, and the reference its
// numbers are checked against.
func (f Figures) Facts() []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	add("period: %s", f.Window.Period())
	add("investigations started: %d; still running: %d", f.Investigations, f.Running)
	add("by verdict: %s", counts(f.ByVerdict))
	add("by priority: %s", counts(f.ByPriority))
	add("outcomes: %s", counts(f.Outcomes))
	add("time to triage (threat created to triage note): %s", dist(f.MTTT))
	add("time to respond (threat created to verified mitigation): %s", dist(f.MTTR))
	for _, g := range f.ApprovalLatency {
		add("approval latency of group %s: %s", g.Group, dist(g.Latency))
	}
	if len(f.Actions) > 0 {
		var parts []string
		for _, a := range f.Actions {
			parts = append(parts, fmt.Sprintf("%s %s %d", a.Action, a.Result, a.N))
		}
		add("actions by result: %s", strings.Join(parts, ", "))
	}
	// No threat, host or hash names: the model is sent numbers and fixed labels only.
	if rate, ok := f.Feedback.Rate(); ok {
		add("analyst feedback: %d agree, %d disagree (%d%% agreement), %d not comparable", f.Feedback.Agree, f.Feedback.Disagree, rate, f.Feedback.NA)
	} else {
		add("analyst feedback: none compared")
	}
	add("triaged by the model: %d; by the rules engine: %d", f.TriagedByModel, f.TriagedByRules)
	if len(f.RulesReasons) > 0 {
		add("why the rules engine triaged: %s", counts(f.RulesReasons))
	}
	add("model usage: %d calls, %d prompt tokens, %d completion tokens", f.Cost.Calls, f.Cost.PromptTokens, f.Cost.CompletionTokens)
	if f.Cost.USD != nil {
		add("model cost: %s", USD(*f.Cost.USD))
	}
	return out
}

func counts(cs []Count) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %d", c.Label, c.N))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func dist(d Distribution) string {
	if d.N == 0 {
		return "no measurement"
	}
	return fmt.Sprintf("n %d, p50 %s, p90 %s, max %s", d.N, Duration(d.P50), Duration(d.P90), Duration(d.Max))
}
