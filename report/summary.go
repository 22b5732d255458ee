package report

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/investigation"
)

// Summary is the report's executive summary and who wrote it.
type Summary struct {
	Text string `json:"text"`
	// By is "rules" or the model's name (openai:<model>).
	By string `json:"by"`
	// Note is the attribution line printed under the summary, saying who wrote it
	// and, for rules, why no model did.
	Note  string                    `json:"note"`
	Usage *investigation.ModelUsage `json:"usage,omitempty"`
}

// Drafter is a model that drafts the summary from the figures (llm.OpenAI).
type Drafter interface {
	Name() string
	Summarize(ctx context.Context, facts []string) (string, investigation.ModelUsage, error)
}

// ByRules is Summary.By when no model wrote the summary.
const ByRules = "rules"

// Summarize drafts the executive summary with the model, given the figures only, and
// keeps it only if every number it quotes is one of the figures'; otherwise, or
// without a model, the rules write it and the note says why. A model error is
// returned (the activity retries it); the caller falls back to Rules when it persists.
func Summarize(ctx context.Context, model Drafter, f Figures) (Summary, error) {
	if model == nil {
		return RulesSummary(f, "no model configured"), nil
	}
	facts := f.Facts()
	text, usage, err := model.Summarize(ctx, facts)
	if err != nil {
		return Summary{Usage: &usage}, err
	}
	if stray := StrayNumbers(text, facts); len(stray) > 0 {
		s := RulesSummary(f, fmt.Sprintf("the model's paragraph quoted numbers absent from the figures (%s)", strings.Join(stray, ", ")))
		s.Usage = &usage
		return s, nil
	}
	return Summary{Text: text, By: model.Name(), Note: "Summary drafted by the model " + model.Name() + " from the figures only; every number in it was checked against them.", Usage: &usage}, nil
}

// numberRE finds numbers as a reader sees them: 12, 4.5, 1,200, 0.0250.
var numberRE = regexp.MustCompile(`\d+(?:[.,]\d+)*`)

// StrayNumbers lists the numbers in text that appear nowhere in facts, in order of
// appearance. A number inside a word (p50, T1059, 2026-11-30) counts as written.
func StrayNumbers(text string, facts []string) []string {
	known := map[string]bool{}
	for _, n := range numberRE.FindAllString(strings.Join(facts, "\n"), -1) {
		known[n] = true
		for _, part := range strings.FieldsFunc(n, func(r rune) bool { return r == '.' || r == ',' }) {
			known[part] = true // "0.0250" also grants "0" and "0250"; "1,200" grants "1" and "200"
		}
	}
	var stray []string
	for _, n := range numberRE.FindAllString(text, -1) {
		n = strings.TrimRight(n, ".,") // the end of a sentence
		if !known[n] && !slices.Contains(stray, n) {
			stray = append(stray, n)
		}
	}
	return stray
}

// RulesSummary writes the summary from the figures by rule; why says why no model did.
func RulesSummary(f Figures, why string) Summary {
	var b strings.Builder
	fmt.Fprintf(&b, "From %s, s1copilot investigated %d threats", f.Window.Period(), f.Investigations)
	if f.Running > 0 {
		fmt.Fprintf(&b, " (%d still running)", f.Running)
	}
	b.WriteString(".")
	if v := nonZero(f.ByVerdict); v != "" {
		fmt.Fprintf(&b, " Verdicts: %s.", v)
	}
	if o := nonZero(f.Outcomes); o != "" {
		fmt.Fprintf(&b, " Outcomes: %s.", o)
	}
	if f.MTTT.N > 0 {
		fmt.Fprintf(&b, " Time to triage was %s at the median and %s at the 90th percentile", Duration(f.MTTT.P50), Duration(f.MTTT.P90))
		if f.MTTR.N > 0 {
			fmt.Fprintf(&b, "; time to a verified mitigation %s at the median (%d mitigated)", Duration(f.MTTR.P50), f.MTTR.N)
		}
		b.WriteString(".")
	}
	if rate, ok := f.Feedback.Rate(); ok {
		fmt.Fprintf(&b, " Analysts agreed with the copilot's verdict %d%% of the time (%d agree, %d disagree).", rate, f.Feedback.Agree, f.Feedback.Disagree)
	}
	if f.TriagedByRules > 0 {
		fmt.Fprintf(&b, " The rules engine triaged %d of them (%s).", f.TriagedByRules, nonZero(f.RulesReasons))
	}
	note := "Summary written by rules; " + why + "."
	return Summary{Text: b.String(), By: ByRules, Note: note}
}

func nonZero(cs []Count) string {
	var parts []string
	for _, c := range cs {
		if c.N > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.N, strings.ReplaceAll(c.Label, "_", " ")))
		}
	}
	return strings.Join(parts, ", ")
}
