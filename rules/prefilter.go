package rules

import (
	"context"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
)

// PreFilter answers the obvious cases without a model, so the model's cost and latency go
// where judgement is needed:
//   - signed, verified unwanted software that SentinelOne itself does not rate malicious and
//     that no behavioural rule flags: a hygiene matter (suspicious, no action);
//   - a hit on the user-defined blocklist, whatever SentinelOne's confidence: the SOC
//     already decided that this hash is bad (true positive, kill and quarantine).
//
// It returns the rules engine's analysis (injection flags included) and why no model was
// needed; ok is false for everything else.
func PreFilter(ctx context.Context, ev investigation.Evidence) (an investigation.Analysis, why string, ok bool) {
	an, err := New().Analyze(ctx, ev)
	if err != nil {
		return an, "", false
	}
	f := ev.Facts
	switch {
	case slices.Equal(an.Rules, []string{PUASigned}) && !strings.EqualFold(f.ConfidenceLevel, "malicious"):
		why = "signed, verified unwanted software that SentinelOne does not rate malicious"
	case slices.Contains(an.Rules, Blocklist):
		why = "SentinelOne matched the user-defined blocklist"
	default:
		return an, "", false
	}
	an.InjectionFlags = guard.DetectInjection(ev)
	return an, why, true
}
