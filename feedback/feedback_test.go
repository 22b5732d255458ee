package feedback_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
)

func TestCompare(t *testing.T) {
	const tp, sus, fp, und = investigation.VerdictTruePositive, investigation.VerdictSuspicious, investigation.VerdictFalsePositive, investigation.VerdictUndetermined
	for _, c := range []struct {
		copilot, analyst investigation.Verdict
		want             feedback.Agreement
	}{
		{tp, tp, feedback.Agree}, {fp, fp, feedback.Agree}, {sus, sus, feedback.Agree},
		{tp, fp, feedback.Disagree}, {fp, tp, feedback.Disagree}, {tp, sus, feedback.Disagree}, {sus, fp, feedback.Disagree},
		{tp, "", feedback.NA}, {und, fp, feedback.NA}, {"", tp, feedback.NA},
	} {
		assert.Equal(t, c.want, feedback.Compare(c.copilot, c.analyst), "%s vs %s", c.copilot, c.analyst)
	}
}

func TestAnalystVerdict(t *testing.T) {
	assert.Equal(t, investigation.VerdictFalsePositive, feedback.AnalystVerdict(feedback.Console{AnalystVerdict: "undefined", MitigationStatus: "marked_as_benign"}))
	assert.Equal(t, investigation.VerdictTruePositive, feedback.AnalystVerdict(feedback.Console{AnalystVerdict: "true_positive"}))
	assert.Empty(t, feedback.AnalystVerdict(feedback.Console{AnalystVerdict: "undefined", IncidentStatus: "resolved"}))
}

func TestIsEcho(t *testing.T) {
	wrote := []feedback.Write{{IncidentStatus: "in_progress"}, {IncidentStatus: "resolved", AnalystVerdict: "true_positive"}}
	assert.True(t, feedback.IsEcho(feedback.Console{IncidentStatus: "in_progress", AnalystVerdict: "undefined"}, wrote))
	assert.True(t, feedback.IsEcho(feedback.Console{IncidentStatus: "resolved", AnalystVerdict: "true_positive"}, wrote))
	assert.False(t, feedback.IsEcho(feedback.Console{IncidentStatus: "resolved", AnalystVerdict: "false_positive"}, wrote))
	assert.False(t, feedback.IsEcho(feedback.Console{IncidentStatus: "in_progress", AnalystVerdict: "suspicious"}, wrote))
	assert.False(t, feedback.IsEcho(feedback.Console{IncidentStatus: "resolved", AnalystVerdict: "undefined"}, wrote))
	assert.False(t, feedback.IsEcho(feedback.Console{IncidentStatus: "in_progress"}, nil), "nothing written, nothing echoed")
}

func TestSameOpinion(t *testing.T) {
	a := feedback.Console{IncidentStatus: "in_progress", AnalystVerdict: "undefined", MitigationStatus: "not_mitigated"}
	assert.True(t, feedback.SameOpinion(a, feedback.Console{IncidentStatus: "in_progress", MitigationStatus: "mitigated"}), "a mitigation settling is no opinion")
	assert.False(t, feedback.SameOpinion(a, feedback.Console{IncidentStatus: "in_progress", AnalystVerdict: "false_positive"}))
	assert.False(t, feedback.SameOpinion(a, feedback.Console{IncidentStatus: "in_progress", MitigationStatus: "marked_as_benign"}))
}
