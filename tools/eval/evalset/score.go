// Package evalset is the evaluation harness of the analyzers: a labeled set of
// simulator scenarios, each threat carrying an "expect" block (a feedback.Expect)
// that says which verdicts are right and which actions must or must not be
// recommended; the evidence is read through the real S1 client from an in-process
// simulator, exactly as the EnrichThreat activity reads it, and every analysis is
// scored.
//
// It runs analyzers directly, never Temporal.
package evalset

import (
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
)

// Score is how one analysis fared against its label.
type Score struct {
	VerdictOK bool
	ActionsOK bool
	// Missing are required actions that were not recommended.
	Missing []investigation.Action
	// Unwanted are recommended actions the label forbids.
	Unwanted []investigation.Action
}

// OK reports whether both the verdict and the actions are right.
func (s Score) OK() bool { return s.VerdictOK && s.ActionsOK }

// Grade scores an analysis against its label.
func Grade(e feedback.Expect, a investigation.Analysis) Score {
	var s Score
	s.VerdictOK = slices.Contains(e.Verdicts(), a.Verdict)
	if e.Actions != nil {
		for _, act := range e.Actions.Required {
			if !slices.Contains(a.RecommendedActions, act) {
				s.Missing = append(s.Missing, act)
			}
		}
		for _, act := range a.RecommendedActions {
			if (e.Actions.None || slices.Contains(e.Actions.Forbidden, act)) && !slices.Contains(s.Unwanted, act) {
				s.Unwanted = append(s.Unwanted, act)
			}
		}
	}
	s.ActionsOK = len(s.Missing) == 0 && len(s.Unwanted) == 0
	return s
}

func actionList(acts []investigation.Action) string {
	s := make([]string, len(acts))
	for i, a := range acts {
		s[i] = string(a)
	}
	return "[" + strings.Join(s, " ") + "]"
}
