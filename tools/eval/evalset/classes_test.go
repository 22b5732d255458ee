package evalset

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
)

// handReport is six cases, two analyzers, computed by hand below.
//
//	case  expected   os              rules           model
//	1     TP (kill)  windows         TP, no action   S
//	2     TP|S       linux           S               TP
//	3     S          windows_legacy  TP              S
//	4     FP|S       macos           S               FP
//	5     FP         macos           error           FP
//	6     U          (none)          U               TP
func handReport() *Report {
	const (
		TP, S, FP, U = investigation.VerdictTruePositive, investigation.VerdictSuspicious, investigation.VerdictFalsePositive, investigation.VerdictUndetermined
	)
	none := &feedback.ActionExpect{None: true}
	type answer struct {
		v   investigation.Verdict
		err bool
	}
	cases := []struct {
		expect       feedback.Expect
		os           string
		rules, model answer
	}{
		{feedback.Expect{Verdict: TP, Actions: &feedback.ActionExpect{Required: []investigation.Action{investigation.ActionKill}}}, "windows", answer{v: TP}, answer{v: S}},
		{feedback.Expect{Verdict: TP, AlsoAcceptable: []investigation.Verdict{S}, Actions: none}, "linux", answer{v: S}, answer{v: TP}},
		{feedback.Expect{Verdict: S, Actions: none}, "windows_legacy", answer{v: TP}, answer{v: S}},
		{feedback.Expect{Verdict: FP, AlsoAcceptable: []investigation.Verdict{S}, Actions: none}, "macos", answer{v: S}, answer{v: FP}},
		{feedback.Expect{Verdict: FP, Actions: none}, "macos", answer{err: true}, answer{v: FP}},
		{feedback.Expect{Verdict: U, Actions: none}, "", answer{v: U}, answer{v: TP}},
	}
	r := &Report{Analyzers: []string{"rules", "model"}}
	for i, c := range cases {
		res := Result{Case: Case{File: "hand.json", ThreatID: string(rune('1' + i)), Expect: c.expect}}
		res.Evidence.Facts.OSType = c.os
		for _, a := range []answer{c.rules, c.model} {
			if a.err {
				res.Outcomes = append(res.Outcomes, Outcome{Err: errors.New("model down")})
				continue
			}
			an := investigation.Analysis{Verdict: a.v}
			res.Outcomes = append(res.Outcomes, Outcome{Analysis: an, Score: Grade(c.expect, an)})
		}
		r.Results = append(r.Results, res)
	}
	return r
}

func TestClassesByHand(t *testing.T) {
	r := handReport()
	want := map[string][]ClassStats{
		"rules": {
			// TP: expected by 1, 2; recalled 1; answered on 1 (right), 3 (wrong).
			{Verdict: investigation.VerdictTruePositive, Support: 2, Recalled: 1, Predicted: 2, Correct: 1},
			// S: expected by 3 (answered TP); answered on 2 and 4, both acceptable.
			{Verdict: investigation.VerdictSuspicious, Support: 1, Recalled: 0, Predicted: 2, Correct: 2},
			// FP: expected by 4 (answered S) and 5 (error); never answered.
			{Verdict: investigation.VerdictFalsePositive, Support: 2, Recalled: 0, Predicted: 0, Correct: 0},
			{Verdict: investigation.VerdictUndetermined, Support: 1, Recalled: 1, Predicted: 1, Correct: 1},
		},
		"model": {
			// TP: recalled on 2; answered on 2 (right) and 6 (wrong).
			{Verdict: investigation.VerdictTruePositive, Support: 2, Recalled: 1, Predicted: 2, Correct: 1},
			// S: recalled on 3; answered on 1 (wrong: TP only) and 3.
			{Verdict: investigation.VerdictSuspicious, Support: 1, Recalled: 1, Predicted: 2, Correct: 1},
			{Verdict: investigation.VerdictFalsePositive, Support: 2, Recalled: 2, Predicted: 2, Correct: 2},
			{Verdict: investigation.VerdictUndetermined, Support: 1, Recalled: 0, Predicted: 0, Correct: 0},
		},
	}
	for i, name := range r.Analyzers {
		got := r.Classes(i)
		assert.Equal(t, want[name], got, name)
		correct := 0
		for _, c := range got {
			correct += c.Correct
		}
		assert.Equal(t, r.Stats(i, nil).Verdict, correct, "%s: correct answers sum to the verdict count", name)
	}

	rules := r.Classes(0)
	p, ok := rules[0].Precision()
	assert.True(t, ok)
	assert.InDelta(t, 0.5, p, 1e-9)
	rc, ok := rules[0].Recall()
	assert.True(t, ok)
	assert.InDelta(t, 0.5, rc, 1e-9)
	p, _ = rules[1].Precision()
	assert.InDelta(t, 1.0, p, 1e-9)
	_, ok = rules[2].Precision()
	assert.False(t, ok, "a class never answered has no precision")
	rc, ok = rules[2].Recall()
	assert.True(t, ok)
	assert.Zero(t, rc)
}

func TestByOSByHand(t *testing.T) {
	r := handReport()
	var oses []string
	for _, res := range r.Results {
		oses = append(oses, OSOf(res))
	}
	assert.Equal(t, []string{"windows", "linux", "windows", "macos", "macos", "other"}, oses)
	for _, tc := range []struct {
		analyzer int
		os       string
		both, n  int
	}{
		{0, "windows", 0, 2}, // 1: kill missing; 3: wrong verdict
		{0, "linux", 1, 1},
		{0, "macos", 1, 2}, // 5: error
		{0, "other", 1, 1},
		{1, "windows", 1, 2}, // 1: wrong verdict (and kill missing)
		{1, "macos", 2, 2},
		{1, "other", 0, 1},
	} {
		s := r.Stats(tc.analyzer, func(res Result) bool { return OSOf(res) == tc.os })
		assert.Equal(t, tc.n, s.N, "%s %s", r.Analyzers[tc.analyzer], tc.os)
		assert.Equal(t, tc.both, s.Both, "%s %s", r.Analyzers[tc.analyzer], tc.os)
	}
}

func TestPrintPerClassAndByOS(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Print(&out, handReport(), PrintOptions{}))
	s := out.String()
	assert.Regexp(t, `(?m)^\s+class\s+support\s+rules precision\s+rules recall\s+model precision\s+model recall\s*$`, s)
	assert.Regexp(t, `(?m)^\s+true_positive\s+2\s+50\.0% 1/2\s+50\.0% 1/2\s+50\.0% 1/2\s+50\.0% 1/2\s*$`, s)
	assert.Regexp(t, `(?m)^\s+suspicious\s+1\s+100\.0% 2/2\s+0\.0% 0/1\s+50\.0% 1/2\s+100\.0% 1/1\s*$`, s)
	assert.Regexp(t, `(?m)^\s+false_positive\s+2\s+-\s+0\.0% 0/2\s+100\.0% 2/2\s+100\.0% 2/2\s*$`, s)
	assert.Regexp(t, `(?m)^\s+undetermined\s+1\s+100\.0% 1/1\s+100\.0% 1/1\s+-\s+0\.0% 0/1\s*$`, s)
	assert.Regexp(t, `(?m)^\s+os\s+n\s+rules\s+model\s*$`, s)
	assert.Regexp(t, `(?m)^\s+windows\s+2\s+0/2\s+0\.0%\s+1/2\s+50\.0%\s*$`, s)
	assert.Regexp(t, `(?m)^\s+macos\s+2\s+1/2\s+50\.0%\s+2/2\s+100\.0%\s*$`, s)
	assert.Regexp(t, `(?m)^\s+other\s+1\s+1/1\s+100\.0%\s+0/1\s+0\.0%\s*$`, s)
}
