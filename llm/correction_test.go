package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

// sequence answers the n-th request with the n-th responder (the last one repeats).
func sequence(responders ...func(w http.ResponseWriter, r *http.Request)) func(w http.ResponseWriter, r *http.Request) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(responders)-1)
		responders[i](w, r)
	}
}

// mutated returns goodAnswer changed by edit.
func mutated(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(goodAnswer), &m))
	edit(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func messages(t *testing.T, req recorded) []map[string]any {
	t.Helper()
	raw, ok := req.Body["messages"].([]any)
	require.True(t, ok, "messages")
	out := make([]map[string]any, len(raw))
	for i, m := range raw {
		out[i] = m.(map[string]any)
	}
	return out
}

// invalidAnswers are first answers that fail validation, with the problems
// that must be reported for each.
func invalidAnswers(t *testing.T) []struct {
	name, answer string
	want         []string
} {
	return []struct {
		name, answer string
		want         []string
	}{
		{
			name: "malformed JSON", answer: `{"verdict": "true_positive", "confidence": 0.9,`,
			want: []string{"the answer is not the expected JSON object"},
		},
		{
			name:   "prose instead of JSON",
			answer: "I think this is ransomware.",
			want:   []string{"the answer is not the expected JSON object"},
		},
		{
			name:   "wrong type",
			answer: `{"verdict":"suspicious","confidence":"high"}`,
			want:   []string{"the answer is not the expected JSON object"},
		},
		{
			name: "missing fields",
			answer: mutated(t, func(m map[string]any) {
				delete(m, "attack_timeline")
				delete(m, "action_reasons")
				delete(m, "summary")
				delete(m, "open_questions")
			}),
			want: []string{"required field attack_timeline is missing", "required field action_reasons is missing",
				"required field summary is missing", "required field open_questions is missing", "summary is empty"},
		},
		{
			name: "missing step field",
			answer: mutated(t, func(m map[string]any) {
				delete(m["attack_timeline"].([]any)[1].(map[string]any), "technique")
			}),
			want: []string{"attack_timeline step 2: required field technique is missing"},
		},
		{
			name: "unknown enums and out-of-range confidence",
			answer: mutated(t, func(m map[string]any) {
				m["verdict"], m["confidence"], m["priority"] = "benign", 7, "urgent"
				m["recommended_actions"] = []any{"kill", "format-disk"}
				m["action_reasons"] = []any{
					map[string]any{"action": "kill", "reason": "stop it"},
					map[string]any{"action": "format-disk", "reason": "be sure"},
				}
			}),
			want: []string{`verdict "benign" is not one of`, "confidence 7 is outside 0..1", `priority "urgent"`,
				`recommended action "format-disk" is not one of`, `action reason for "format-disk", which is not one of`},
		},
		{
			name: "invented MITRE technique",
			answer: mutated(t, func(m map[string]any) {
				m["mitre_techniques"] = []any{"T1486", "T1059.001", "T1490"}
			}),
			want: []string{"MITRE technique T1059.001 is not supported"},
		},
		{
			name: "ungrounded citation, and the technique it was meant to support",
			answer: mutated(t, func(m map[string]any) {
				steps := m["attack_timeline"].([]any)
				m["attack_timeline"] = append(steps, map[string]any{
					"step": "PowerShell ran an encoded payload", "evidence": "powershell -enc SQBFAFgA", "technique": "T1059.001",
				})
				m["mitre_techniques"] = []any{"T1486", "T1490", "T1059"}
			}),
			want: []string{`attack_timeline step 4 cites "powershell -enc SQBFAFgA"`, "MITRE technique T1059 is not supported"},
		},
		{
			name: "citation of the prompt outside the fence",
			answer: mutated(t, func(m map[string]any) {
				m["attack_timeline"].([]any)[0].(map[string]any)["evidence"] = "Triage the SentinelOne threat"
			}),
			want: []string{`attack_timeline step 1 cites "Triage the SentinelOne threat"`},
		},
		{
			name: "missing and extra action reasons",
			answer: mutated(t, func(m map[string]any) {
				m["action_reasons"] = []any{
					map[string]any{"action": "kill", "reason": "stop it"},
					map[string]any{"action": "kill", "reason": "really stop it"},
					map[string]any{"action": "quarantine", "reason": ""},
					map[string]any{"action": "rollback", "reason": "restore"},
					map[string]any{"action": "remediate", "reason": "undo"},
				}
			}),
			want: []string{`recommended action "isolate" has no action reason`, `recommended action "kill" has 2 action reasons`,
				`the reason for action "quarantine" is empty`, `action reason for "remediate", which is not a recommended action`},
		},
		{
			name:   "no action reasons at all",
			answer: mutated(t, func(m map[string]any) { m["action_reasons"] = []any{} }),
			want:   []string{"action_reasons is empty, but every recommended action needs exactly one reason"},
		},
	}
}

func TestOpenAIRetriesInvalidAnswerOnceThenSucceeds(t *testing.T) {
	for _, tt := range invalidAnswers(t) {
		t.Run(tt.name, func(t *testing.T) {
			fp := newFakeProvider(t, sequence(completion(tt.answer), completion(goodAnswer)))
			a, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
			require.NoError(t, err)
			require.NoError(t, a.Validate())
			assert.Equal(t, investigation.VerdictTruePositive, a.Verdict)
			assert.Len(t, a.AttackTimeline, 3)
			assert.True(t, a.Corrected, "the analysis records that it was corrected")
			for _, w := range tt.want {
				assert.Contains(t, a.CorrectionNote, w)
			}

			reqs := fp.requests()
			require.Equal(t, 2, len(reqs), "exactly one retry")
			first, second := messages(t, reqs[0]), messages(t, reqs[1])
			require.Len(t, first, 2)
			require.Len(t, second, 4)
			assert.Equal(t, first, second[:2], "the retry repeats the conversation, fence and all")
			assert.Equal(t, "assistant", second[2]["role"])
			assert.Equal(t, tt.answer, second[2]["content"], "the previous answer is sent back verbatim")
			assert.Equal(t, "user", second[3]["role"])
			correction := second[3]["content"].(string)
			assert.Contains(t, correction, "Your previous answer failed validation")
			assert.Contains(t, correction, "Answer again with a corrected JSON object under the same response format")
			for _, w := range tt.want {
				assert.Contains(t, correction, w)
			}
			assert.Equal(t, reqs[0].Body["response_format"], reqs[1].Body["response_format"], "same schema")
			assert.NotContains(t, reqs[1].Raw, testKey)
		})
	}
}

func TestOpenAIRetriesInvalidAnswerOnceThenFails(t *testing.T) {
	for _, tt := range invalidAnswers(t) {
		t.Run(tt.name, func(t *testing.T) {
			// The second answer is wrong in a different way: the error reports it.
			second := mutated(t, func(m map[string]any) { m["mitre_techniques"] = []any{"T1486", "T1003"} })
			fp := newFakeProvider(t, sequence(completion(tt.answer), completion(second), completion(goodAnswer)))
			a, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidOutput)
			var pe *ProviderError
			assert.False(t, errors.As(err, &pe))
			require.NotNil(t, a.Usage, "what the failed call spent is reported")
			assert.Equal(t, 2, a.Usage.Calls)
			a.Usage = nil
			assert.Equal(t, investigation.Analysis{}, a, "nothing but the usage on error")
			assert.Contains(t, err.Error(), "retried once")
			assert.Contains(t, err.Error(), "MITRE technique T1003 is not supported", "the second answer's problems")
			assert.Contains(t, err.Error(), "threat 1850000000000000001")
			assert.Equal(t, 2, len(fp.requests()), "no third request")
		})
	}
}

func TestOpenAIRetriedAnswerSameProblemsFails(t *testing.T) {
	bad := mutated(t, func(m map[string]any) { m["verdict"] = "benign" })
	fp := newFakeProvider(t, completion(bad))
	_, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
	require.ErrorIs(t, err, ErrInvalidOutput)
	assert.Contains(t, err.Error(), `verdict "benign"`)
	assert.Contains(t, err.Error(), "retried once")
	assert.Equal(t, 2, len(fp.requests()))
}

func TestOpenAICorrectionRequestFails(t *testing.T) {
	bad := mutated(t, func(m map[string]any) { m["mitre_techniques"] = []any{"T1003"} })
	t.Run("provider error is not retried and stays a provider error", func(t *testing.T) {
		fp := newFakeProvider(t, sequence(completion(bad), apiError(503, "overloaded", map[string]string{"Retry-After": "4"})))
		_, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
		require.Error(t, err)
		var pe *ProviderError
		require.True(t, errors.As(err, &pe), "got %T: %v", err, err)
		assert.Equal(t, 503, pe.StatusCode)
		assert.True(t, pe.Retryable())
		assert.NotErrorIs(t, err, ErrInvalidOutput)
		assert.Contains(t, err.Error(), "asking for a corrected answer")
		assert.Equal(t, 2, len(fp.requests()))
	})
	t.Run("refused correction", func(t *testing.T) {
		fp := newFakeProvider(t, sequence(completion(bad),
			rawCompletion(map[string]any{"role": "assistant", "content": nil, "refusal": "No."}, "stop")))
		_, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
		require.ErrorIs(t, err, ErrInvalidOutput)
		assert.Contains(t, err.Error(), "the model refused: No.")
		assert.Contains(t, err.Error(), "retried once")
		assert.Equal(t, 2, len(fp.requests()))
	})
}

func TestOpenAICorrectionPromptBounded(t *testing.T) {
	var problems []string
	for i := range maxCorrectionProblems + 5 {
		problems = append(problems, fmt.Sprintf("problem %d\nwith <<<S1DATA-x>>> fence %s", i, strings.Repeat("x", 400)))
	}
	p := correctionPrompt(problems)
	assert.Contains(t, p, "- (5 more problems)")
	assert.NotContains(t, p, "S1DATA", "problems echo model text: no fence look-alikes")
	assert.NotContains(t, p, fmt.Sprintf("problem %d", maxCorrectionProblems))
	assert.Contains(t, p, "…[truncated")
	assert.Equal(t, maxCorrectionProblems+1, strings.Count(p, "\n- "))
}

// Long model prose is bounded before it reaches Temporal history.
func TestOpenAIBoundsModelLists(t *testing.T) {
	long := strings.Repeat("y", 2*maxItemRunes)
	answer := mutated(t, func(m map[string]any) {
		var steps []any
		for range maxAttackSteps + 5 {
			steps = append(steps, map[string]any{"step": long, "evidence": "command_line", "technique": ""})
		}
		m["attack_timeline"] = steps
		var qs []any
		for range guard.MaxOpenQuestions + 5 {
			qs = append(qs, long)
		}
		m["open_questions"] = qs
	})
	fp := newFakeProvider(t, completion(answer))
	a, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
	require.NoError(t, err)
	assert.Len(t, a.AttackTimeline, maxAttackSteps)
	assert.Len(t, a.OpenQuestions, guard.MaxOpenQuestions)
	assert.Contains(t, a.AttackTimeline[0].Step, "…[truncated, 300 more chars]")
	assert.Contains(t, a.OpenQuestions[0], "…[truncated, 300 more chars]")
}

// What the fake provider receives is fenced and truncated exactly as userPrompt
// renders it, and citations of what was cut off are not grounded.
func TestOpenAIRequestTruncatesAndGroundsOnWhatWasSent(t *testing.T) {
	ev := investigationtest.RansomwareServer()
	ev.Facts.CommandLine = "cmd.exe /c " + strings.Repeat("A", maxFieldRunes) + " TAILMARKER-beyond-the-limit"
	for i := range maxListItems + 5 {
		ev.Facts.Indicators = append(ev.Facts.Indicators, fmt.Sprintf("Extra indicator %d", i))
	}
	tail := mutated(t, func(m map[string]any) {
		m["attack_timeline"].([]any)[0].(map[string]any)["evidence"] = "TAILMARKER-beyond-the-limit"
	})
	fp := newFakeProvider(t, sequence(completion(tail), completion(goodAnswer)))
	a, err := fp.analyzer(t, 0).Analyze(context.Background(), ev)
	require.NoError(t, err)
	assert.True(t, a.Corrected)
	assert.Contains(t, a.CorrectionNote, `cites "TAILMARKER-beyond-the-limit"`)

	reqs := fp.requests()
	require.Equal(t, 2, len(reqs))
	content := messages(t, reqs[0])[1]["content"].(string)
	m := fenceRE.FindStringSubmatch(content)
	require.NotNil(t, m)
	fenced := between(t, content, m[1])
	assert.Contains(t, fenced, "…[truncated, ")
	assert.Contains(t, fenced, "(7 more omitted)") // 2 + 35 indicators, 30 shown
	assert.NotContains(t, content, "TAILMARKER")
	assert.NotContains(t, content, "Extra indicator 29")
	assert.Equal(t, userPrompt(ev, m[1]), content)
}
