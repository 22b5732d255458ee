package guard

import (
	"fmt"

	"github.com/s1copilot/s1copilot/investigation"
)

// Disagreement holds a model's verdict to the floor SentinelOne's rating and the rules
// engine set on the same evidence. A model may read a threat higher than they do (the
// policy then decides, and grounding asks it to quote the behaviour), but not lower: a
// manipulated or simply wrong model must not make real malware disappear from the
// SOC's queue. It returns nil when the model's verdict is not below the floor;
// otherwise a Disagreement for the human who decides, carrying the model's reading.
func Disagreement(f investigation.ThreatFacts, model, rules investigation.Analysis) *investigation.Disagreement {
	s1 := investigation.S1Reading(f.ConfidenceLevel)
	if model.Verdict.Rank() >= max(s1.Rank(), rules.Verdict.Rank()) { // no rating ranks 0: the rules alone set the floor
		return nil
	}
	d := &investigation.Disagreement{
		S1Rating: f.ConfidenceLevel, RulesVerdict: rules.Verdict,
		Model: investigation.ModelReading{
			Analyzer: model.Analyzer, Verdict: model.Verdict, Confidence: model.Confidence,
			Summary: model.Summary, RecommendedActions: model.RecommendedActions,
		},
	}
	for _, st := range model.AttackTimeline {
		if st.Evidence != "" && len(d.Model.Evidence) < maxReadingEvidence {
			d.Model.Evidence = append(d.Model.Evidence, Truncate(st.Evidence, 200))
		}
	}
	said := fmt.Sprintf("the model says %s (confidence %.2f) where the rules engine says %s on the same evidence", model.Verdict, model.Confidence, rules.Verdict)
	if s1 != "" && model.Verdict.Rank() < s1.Rank() {
		d.Reason = fmt.Sprintf("the model contradicts SentinelOne's rating (%s): %s; a human decides", f.ConfidenceLevel, said)
	} else {
		d.Reason = fmt.Sprintf("the model contradicts the rules engine: %s (SentinelOne rates it %s); a human decides", said, orNA(f.ConfidenceLevel))
	}
	return d
}

// maxReadingEvidence bounds the citations kept with a model's reading (history stays small).
const maxReadingEvidence = 5

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}
